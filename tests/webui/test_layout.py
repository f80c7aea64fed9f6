"""The pages' layout shows itself: `<page>.html` + `<page>/main.js`, shared code in `lib/`, one
head and header for every page, and a module graph without cycles or missing files."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient

from webui.routes import PAGES, STATIC, render

# `import … from "x"`, `export … from "x"` (over several lines too) and `import "x"`.
IMPORT = re.compile(r"""^\s*(?:import\s*(?:[\w*${}\s,]+?\s*from\s*)?"""
                    r"""|export\s*(?:\*|\{[^}]*\})\s*(?:as\s+\w+\s*)?from\s*)["']([^"']+)["']""",
                    re.MULTILINE)


def imports_of(module: Path) -> list[Path]:
    found = []
    for spec in IMPORT.findall(module.read_text(encoding="utf-8")):
        if spec.startswith("/static/"):
            found.append(STATIC / spec.removeprefix("/static/"))
        else:
            assert spec.startswith("."), f"{module}: bare import {spec!r} needs a build step"
            found.append((module.parent / spec).resolve())
    return found


# `import { a, b as c } from "x"`: the names taken from x.
NAMED = re.compile(r"""^\s*import\s*\{([^}]*)\}\s*from\s*["']([^"']+)["']""", re.MULTILINE)
EXPORTED = re.compile(r"^export\s+(?:async\s+)?(?:function\*?|const|let|class)\s+([\w$]+)",
                      re.MULTILINE)


def module_graph() -> dict[Path, list[Path]]:
    return {js.resolve(): imports_of(js) for js in STATIC.rglob("*.js")}


def test_every_import_exists_and_nothing_imports_in_a_circle() -> None:
    graph = module_graph()
    assert len(graph) > 40
    for module, deps in graph.items():
        for dep in deps:
            assert dep in graph, f"{module.relative_to(STATIC)} imports missing {dep}"
    done: set[Path] = set()

    def visit(module: Path, path: list[Path]) -> None:
        if module in path:
            cycle = [*path[path.index(module):], module]
            raise AssertionError("import cycle: " + " -> ".join(
                str(m.relative_to(STATIC)) for m in cycle))
        if module in done:
            return
        for dep in graph[module]:
            visit(dep, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_every_imported_name_is_exported() -> None:
    for module in STATIC.rglob("*.js"):
        text = module.read_text(encoding="utf-8")
        for names, spec in NAMED.findall(text):
            source = (module.parent / spec).resolve()
            exported = set(EXPORTED.findall(source.read_text(encoding="utf-8")))
            for name in (n.split(" as ")[0].strip() for n in names.split(",")):
                assert not name or name in exported, (module.relative_to(STATIC), name, spec)


def test_the_parser_sees_multi_line_and_side_effect_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.js"
    module.write_text('import {\n  a,\n  b,\n} from "./a.js";\nimport "./b.js";\n'
                      'export { c } from "./c.js";\nconst s = "import x from nowhere";\n')
    assert [p.name for p in imports_of(module)] == ["a.js", "b.js", "c.js"]


def test_every_page_is_its_html_and_its_main_module() -> None:
    pages = set(PAGES.values())
    assert {p.stem for p in STATIC.glob("*.html")} == pages
    assert not list(STATIC.glob("*.js")), "page code lives in <page>/main.js, shared code in lib/"
    for page in pages:
        assert (STATIC / page / "main.js").is_file(), page
        document = render(page)
        assert document.count("<head>") == 1 and document.count('<meta charset="utf-8">') == 1
        assert document.count('<header id="shell"') == 1, page
        assert f'<script type="module" src="/static/{page}/main.js"></script>' in document
        assert document.count("<title>") == 1 and document.rstrip().endswith("</html>"), page
    # Every module is used by some page: nothing lies about unreached.
    graph = module_graph()
    reached: set[Path] = set()
    todo = [(STATIC / page / "main.js").resolve() for page in pages]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo += graph[module]
    assert set(graph) - reached == set()


async def test_pages_are_served_whole_at_their_old_addresses(client: TestClient) -> None:
    for url, page in PAGES.items():
        r = await client.get(url)
        assert r.status == 200, url
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.content_type == "text/html"
        assert await r.text() == render(page)
