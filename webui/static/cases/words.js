// The words of the cases page that more than one of its modules shows: field names, case
// statuses and types, party roles and kinds, restrictions.
import { addStrings, t } from "../lib/i18n.js";

addStrings({
  "cases.page": ["案件与排期", "Cases and schedule"],
  "cases.search": ["案件查询", "Find a case"],
  "cases.number": ["案号", "Case number"],
  "cases.partyName": ["当事人名称", "Party name"],
  "cases.status": ["状态", "Status"],
  "cases.court": ["法院", "Court"],
  "cases.any": ["全部", "Any"],
  "cases.anyCourt": ["我可查看的全部法院", "All courts I may see"],
  "cases.find": ["查询", "Search"],
  "cases.results": ["查询结果", "Results"],
  "cases.cause": ["案由", "Cause"],
  "cases.judge": ["审判长", "Presiding judge"],
  "cases.clerk": ["书记员", "Clerk"],
  "cases.parties": ["当事人", "Parties"],
  "cases.hearings": ["庭审", "Hearings"],
  "cases.type": ["类型", "Type"],
  "cases.restriction": ["不公开审理事由", "Heard in private because"],
  "cases.createdBy": ["立案人", "Filed by"],
  "cases.createdAt": ["立案时间", "Filed at"],
  "cases.required": ["必填", "Required"],
  "cases.close": ["关闭", "Close"],
  "cases.none": ["—", "—"],
  "caseStatus.filed": ["已立案", "Filed"],
  "caseStatus.in_trial": ["审理中", "In trial"],
  "caseStatus.suspended": ["中止审理", "Suspended"],
  "caseStatus.concluded": ["已结案", "Concluded"],
  "caseType.civil": ["民事", "Civil"],
  "caseType.criminal": ["刑事", "Criminal"],
  "caseType.administrative": ["行政", "Administrative"],
  "caseType.enforcement": ["执行", "Enforcement"],
  "restriction.none": ["无（可公开审理）", "None (may be heard in public)"],
  "restriction.state_secret": ["涉及国家秘密", "State secrets"],
  "restriction.privacy": ["涉及个人隐私", "Personal privacy"],
  "restriction.minors": ["未成年人案件", "Minors"],
  "party.role": ["诉讼地位", "Role"],
  "party.kind": ["类型", "Kind"],
  "party.name": ["名称", "Name"],
  "party.idNumber": ["证件号码", "ID number"],
  "party.phone": ["电话", "Phone"],
  "party.address": ["地址", "Address"],
  "party.minor": ["未成年人", "Minor"],
  "partyRole.plaintiff": ["原告", "Plaintiff"],
  "partyRole.defendant": ["被告", "Defendant"],
  "partyRole.appellant": ["上诉人", "Appellant"],
  "partyRole.appellee": ["被上诉人", "Appellee"],
  "partyRole.third_party": ["第三人", "Third party"],
  "partyRole.defendant_in_custody": ["在押被告人", "Defendant in custody"],
  "partyRole.victim": ["被害人", "Victim"],
  "partyRole.defence_lawyer": ["辩护人", "Defence lawyer"],
  "partyKind.natural": ["自然人", "Natural person"],
  "partyKind.organisation": ["法人或其他组织", "Organisation"],
});

// A translated word for a code the server sends, or the code itself if there is none.
function word(prefix, code) {
  if (!code) return t("cases.none");
  const text = t(`${prefix}.${code}`);
  return text === `${prefix}.${code}` ? code : text;
}

export const caseStatus = (code) => word("caseStatus", code);
export const caseType = (code) => word("caseType", code);
export const restriction = (code) => word("restriction", code);
export const partyRole = (code) => word("partyRole", code);
export const partyKind = (code) => word("partyKind", code);
