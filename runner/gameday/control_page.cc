#include "runner/gameday/control_page.h"

namespace ringfence {

const std::string& ControlPage() {
  static const std::string kPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ringfence game day</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; align-items: baseline; gap: 16px; }
  header h1 { font-size: 18px; margin: 0; flex: 1; }
  main { display: grid; grid-template-columns: 1fr 340px; gap: 16px; padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 14px; text-transform: uppercase; letter-spacing: .05em; color: #5b6475; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; padding: 4px 8px 4px 0; vertical-align: top; }
  .spark { font-family: monospace; letter-spacing: -1px; }
  .ok { color: #137333; } .breach, .error { color: #c5221f; font-weight: bold; } .warn { color: #b06000; }
  #abort { width: 100%; font-size: 28px; font-weight: bold; padding: 28px 0; border: 0; border-radius: 10px;
           background: #c5221f; color: #fff; cursor: pointer; }
  #abort.confirm { background: #7a0000; }
  #abort:disabled { background: #999; cursor: default; }
  .row { display: flex; gap: 8px; margin-top: 10px; }
  .row button, .row input { flex: 1; padding: 8px; font-size: 14px; }
  #phase { font-size: 20px; font-weight: 600; }
  #held { color: #b06000; font-weight: bold; }
  #events div { font-family: monospace; font-size: 13px; white-space: pre-wrap; }
  #msg { margin-top: 8px; min-height: 1.4em; }
</style>
</head>
<body>
<header><h1 id="title">ringfence</h1><span id="times"></span></header>
<main>
  <div>
    <section><div id="phase">connecting…</div><div id="held"></div><div id="activity"></div></section>
    <section><h2>Active faults</h2><table id="faults"></table></section>
    <section><h2>Guards</h2><table id="guards"></table></section>
    <section><h2>Events</h2><div id="events"></div></section>
  </div>
  <div>
    <section>
      <button id="abort" type="button">ABORT</button>
      <div id="msg"></div>
      <div class="row"><button id="hold" type="button">Hold</button><button id="continue" type="button">Continue</button><button id="skip" type="button">Skip next</button></div>
      <div class="row"><input id="note" placeholder="a note for the journal"><button id="send" type="button">Note</button></div>
      <div class="row"><input id="token" type="password" placeholder="bearer token" autocomplete="off"></div>
    </section>
  </div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const frag = new URLSearchParams(location.hash.slice(1));
if (frag.get("token")) { sessionStorage.setItem("token", frag.get("token")); history.replaceState(null, "", location.pathname); }
$("token").value = sessionStorage.getItem("token") || "";
$("token").addEventListener("change", () => sessionStorage.setItem("token", $("token").value));
const clock = (s) => { s = Math.max(0, Math.floor(s || 0)); const m = Math.floor(s / 60), h = Math.floor(m / 60);
  const p = (n) => String(n).padStart(2, "0"); return (h ? h + ":" + p(m % 60) : p(m)) + ":" + p(s % 60); };
const bars = "▁▂▃▄▅▆▇█";
function spark(samples) {
  const nums = samples.filter((v) => typeof v === "number");
  const lo = Math.min(...nums), hi = Math.max(...nums);
  return samples.map((v) => typeof v !== "number" ? " " : bars[hi > lo ? Math.round((v - lo) / (hi - lo) * 7) : 0]).join("");
}
function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; }
function verdictClass(v) { return v === "ok" ? "ok" : (v === "breach" || v === "error") ? "breach" : "warn"; }
function show(st) {
  $("title").textContent = "ringfence · " + st.title;
  $("times").textContent = "elapsed " + clock(st.elapsed_s) + (st.left_s == null ? "" : "  left " + clock(st.left_s));
  let phase = "phase " + st.phase + (st.phase === "method" ? " " + st.step + "/" + st.steps : "");
  if (st.result) phase += " · result " + st.result;
  $("phase").textContent = phase;
  $("held").textContent = st.held ? "HELD before " + st.next_step : (st.hold_requested ? "hold requested" : "");
  $("activity").textContent = st.activity || "";
  const f = $("faults"); f.innerHTML = "";
  if (!st.faults.length) cell(f.insertRow(), "none active");
  for (const x of st.faults) { const r = f.insertRow(); cell(r, x.name); cell(r, x.targets.join(", ")); cell(r, "left " + clock(x.left_s)); }
  const g = $("guards"); g.innerHTML = "";
  if (!st.guards.length) cell(g.insertRow(), "none");
  for (const x of st.guards) { const r = g.insertRow(); cell(r, x.name); cell(r, x.value == null ? "—" : String(+x.value.toPrecision(4)));
    cell(r, "limit " + (x.limit || "—")); cell(r, spark(x.samples), "spark"); cell(r, x.verdict, verdictClass(x.verdict)); }
  const e = $("events"); e.innerHTML = "";
  for (const x of st.events.slice().reverse()) { const d = document.createElement("div");
    d.textContent = x.at.substr(11, 8) + " " + x.kind.padEnd(12) + " " + x.text; e.appendChild(d); }
  if (st.result) { $("abort").disabled = true; $("abort").textContent = "run " + st.result; }
}
let ended = false;
async function poll() {
  try { const r = await fetch("/status", {cache: "no-store"}); show(await r.json()); }
  catch (e) { if (!ended) $("phase").textContent = "the runner is not answering (the run may be over)"; }
}
async function act(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Authorization": "Bearer " + $("token").value,
    "Content-Type": "application/json"}, body: JSON.stringify(body || {})});
  const j = await r.json().catch(() => ({}));
  $("msg").textContent = r.ok ? path.slice(1) + ": done (as " + j.who + ")" : path.slice(1) + ": " + r.status + " " + (j.error || "");
  poll();
  return r.ok;
}
let armed = null;
$("abort").addEventListener("click", async () => {
  if (!armed) { $("abort").classList.add("confirm"); $("abort").textContent = "CONFIRM ABORT";
    armed = setTimeout(() => { armed = null; $("abort").classList.remove("confirm"); $("abort").textContent = "ABORT"; }, 5000); return; }
  clearTimeout(armed); armed = null; $("abort").classList.remove("confirm"); $("abort").textContent = "aborting…";
  if (!await act("/abort")) $("abort").textContent = "ABORT";
});
$("hold").addEventListener("click", () => act("/hold"));
$("continue").addEventListener("click", () => act("/continue"));
$("skip").addEventListener("click", () => act("/skip"));
$("send").addEventListener("click", async () => { if ($("note").value && await act("/note", {text: $("note").value})) $("note").value = ""; });
poll();
setInterval(poll, 1000);
</script>
</body>
</html>
)HTML";
  return kPage;
}

}  // namespace ringfence
