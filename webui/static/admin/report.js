// The administration page's one error line: what the server refused, or nothing.
export function report(err) {
  document.getElementById("admin-error").textContent = err ? (err.message || String(err)) : "";
}
