#!/usr/bin/python3
"""Game-day controls through real terminals, HTTP and a browser (docs/game-days.md).

Usage: gameday_test.py RINGFENCE_BINARY TEST_NAME   (ctest runs one test per process)

Every test makes its own temporary directory, victim processes, tmux server (-L socket), network
namespace and Chromium, and removes them, whatever happens.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BINARY = None
TOKEN = "s3cret-token-for-alice-0123456789"


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def wait_for(what, check, timeout=30.0, every=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(every)


def experiment(pid, fault_duration="120s", method_tail=None, steady_ok=True):
    method = [{"type": "process_pause", "name": "pause-victim", "target": "victims",
               "duration": fault_duration}]
    method += method_tail if method_tail is not None else [
        {"type": "wait", "name": "soak", "duration": "60s"},
        {"type": "probe", "probe": {"name": "still-there", "type": "process_alive",
                                    "target": "victims"}}]
    steady = {"name": "victim-alive", "type": "process_alive", "target": "victims"}
    if not steady_ok:
        steady = {"name": "nothing-listens", "type": "tcp", "port": 9, "timeout": "500ms"}
    return {
        "version": 1,
        "title": "the victim pauses",
        "targets": {"victims": {"process": {"pid": pid}}},
        "steady_state": [steady],
        "method": method,
        "guards": [{"name": "blast-radius",
                    "source": {"type": "affected_fraction", "target": "victims"},
                    "condition": {"max": 1}, "interval": "250ms"}],
    }


class GameDayCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rf-gameday-")
        os.chmod(self.dir, 0o700)
        self.state = os.path.join(self.dir, "state")
        self.journal = os.path.join(self.dir, "journal.json")
        self.victim = subprocess.Popen(["sleep", "1000"])
        self.addCleanup(self._cleanup_victim)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def _cleanup_victim(self):
        try:
            os.kill(self.victim.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        self.victim.kill()
        self.victim.wait()

    def write(self, name, content, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        os.chmod(path, mode)
        return path

    def run_args(self, exp_path, *extra):
        return [BINARY, "run", exp_path, "--journal", self.journal, "--state-dir", self.state,
                *extra]

    def read_journal(self):
        with open(self.journal) as f:
            return json.load(f)

    def paused(self):
        return proc_state(self.victim.pid) == "T"

    def assert_on_disk_in_method(self, action, who, text):
        """The journal on disk, read while the run is in its method, ends with this action (by
        `who`; None: anyone)."""
        j = self.read_journal()
        self.assertEqual((j["incomplete"], j["phase"]), (True, "method"))
        last = j["operator_actions"][-1]
        self.assertEqual((last["action"], last["text"]), (action, text))
        self.assertTrue(last["who"])
        if who is not None:
            self.assertEqual(last["who"], who)


class Tmux:
    """A tmux server of our own (-S, its socket in the test's directory), one window running `command` in a shell; the shell writes
    the exit code and `stty -a` of the same terminal when ringfence is done."""

    def __init__(self, case, command):
        self.socket = os.path.join(case.dir, "tmux.sock")
        self.exit_file = os.path.join(case.dir, "exit")
        self.stty_file = os.path.join(case.dir, "stty")
        quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in command)
        # `trap : INT`: Ctrl-C reaches ringfence, the shell lives on to record what it did.
        script = (f"trap : INT; {quoted}; echo $? > {self.exit_file}.tmp; stty -a > {self.stty_file}; "
                  f"mv {self.exit_file}.tmp {self.exit_file}; sleep 600")
        self.tmux("new-session", "-d", "-x", "110", "-y", "36", "-s", "rf", "sh", "-c", script)
        case.addCleanup(self.close)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "rf", *keys)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "rf")

    def wait_screen(self, pattern, timeout=30.0):
        return wait_for(f"{pattern!r} on the screen", lambda: re.search(pattern, self.screen()),
                        timeout)

    def exit_code(self, timeout=60.0):
        wait_for("ringfence to exit", lambda: os.path.exists(self.exit_file), timeout)
        with open(self.exit_file) as f:
            return int(f.read().strip())

    def stty(self):
        with open(self.stty_file) as f:
            return f.read()

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


def assert_cooked(case, stty):
    words = stty.split()
    case.assertIn("icanon", words, stty)
    case.assertIn("echo", words, stty)
    case.assertNotIn("-icanon", words, stty)
    case.assertNotIn("-echo", words, stty)


class TerminalTest(GameDayCase):
    def test_abort_key_reverts_and_leaves_a_cooked_terminal(self):
        exp = self.write("exp.json", experiment(self.victim.pid))
        t = Tmux(self, self.run_args(exp))
        screen = t.wait_screen(r"pause-victim on pid \d+").string
        t.wait_screen(r"blast-radius +\S+ +limit <= 1 ")
        screen = t.screen()
        self.assertIn("phase method", screen)
        self.assertIn("limit <= 1", screen)
        self.assertRegex(screen, r"\[a\]bort")
        self.assertTrue(self.paused())
        t.keys("a")
        t.wait_screen("press y to confirm")
        self.assertTrue(self.paused())  # nothing happens before y
        t.keys("y")
        self.assertEqual(t.exit_code(), 1)
        self.assertFalse(self.paused())
        j = self.read_journal()
        self.assertEqual(j["status"], "aborted")
        self.assertTrue(j["reason"].startswith("operator: aborted by "), j["reason"])
        self.assertEqual(j["abort"]["by"], "operator")
        self.assertTrue(j["abort"]["all_reverted_at"])
        self.assertEqual([a["action"] for a in j["operator_actions"]], ["abort"])
        assert_cooked(self, t.stty())
        # The verdict and the log are on the normal screen afterwards.
        self.assertIn("verdict: aborted (exit 1)", t.screen())

    def test_ctrl_c_reverts_and_leaves_a_cooked_terminal(self):
        exp = self.write("exp.json", experiment(self.victim.pid))
        t = Tmux(self, self.run_args(exp))
        t.wait_screen(r"pause-victim on pid \d+")
        t.keys("C-c")
        self.assertEqual(t.exit_code(), 130)
        self.assertFalse(self.paused())
        self.assertEqual(self.read_journal()["status"], "interrupted")
        assert_cooked(self, t.stty())

    def test_hold_note_continue(self):
        # The fault (4 s) outlives the first wait (1.5 s): held before `second`, it still ends.
        tail = [{"type": "wait", "name": "first", "duration": "1500ms"},
                {"type": "wait", "name": "second", "duration": "100ms"}]
        exp = self.write("exp.json", experiment(self.victim.pid, "4s", tail))
        t = Tmux(self, self.run_args(exp))
        t.wait_screen(r"pause-victim on pid")
        t.keys("h")
        t.wait_screen(r"HELD before second")
        # A hold never keeps a fault past its duration: the victim resumes while held.
        wait_for("the fault to end while held", lambda: not self.paused(), 20)
        self.assertRegex(t.screen(), r"HELD before")
        t.keys("n")
        t.wait_screen("note>")
        t.keys("-l", "error rate flat, paging quiet")
        t.keys("Enter")
        t.wait_screen("note +root: error rate flat, paging quiet|note +\\S+: error rate flat")
        # Shown means on disk: the note is in the journal's checkpoint while the method is held.
        self.assert_on_disk_in_method("note", None, "error rate flat, paging quiet")
        t.keys("c")
        code = t.exit_code()
        self.assertEqual(code, 0, t.screen())
        j = self.read_journal()
        self.assertEqual(j["status"], "passed")
        actions = j["operator_actions"]
        self.assertEqual([a["action"] for a in actions], ["hold", "note", "continue"])
        self.assertEqual(actions[1]["text"], "error rate flat, paging quiet")
        for a in actions:
            self.assertTrue(a["who"])
            self.assertRegex(a["at"], r"^\d{4}-\d\d-\d\dT")
        assert_cooked(self, t.stty())

    def test_step_mode_asks_before_each_step(self):
        tail = [{"type": "wait", "name": "first", "duration": "100ms"},
                {"type": "wait", "name": "second", "duration": "100ms"}]
        exp = self.write("exp.json", experiment(self.victim.pid, "1s", tail))
        t = Tmux(self, self.run_args(exp, "--step"))
        t.wait_screen(r"HELD before pause-victim")
        self.assertFalse(self.paused())
        t.keys("s")  # skip the fault: nothing is injected
        t.wait_screen(r"HELD before first")
        t.keys("c")
        t.wait_screen(r"HELD before second")
        t.keys("c")
        self.assertEqual(t.exit_code(), 0, t.screen())
        j = self.read_journal()
        self.assertEqual(j["faults"][0]["injected_at"], None)
        self.assertEqual(j["method"][0]["skipped"], True)
        self.assertEqual([a["action"] for a in j["operator_actions"]], ["skip", "continue", "continue"])
        assert_cooked(self, t.stty())


def http(method, url, token=None, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class ApiCase(GameDayCase):
    def start_runner(self, *extra, exp=None):
        exp = exp or self.write("exp.json", experiment(self.victim.pid))
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr = open(self.stderr_path, "w")
        self.runner = subprocess.Popen(self.run_args(exp, "--progress", "never", *extra),
                                       stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                       stdin=subprocess.DEVNULL)
        self.addCleanup(self._stop_runner)

        def port():
            with open(self.stderr_path) as f:
                m = re.search(r"control API on http://[^:]+:(\d+)/", f.read())
            return m and int(m.group(1))
        self.port = wait_for("the control API", port)
        wait_for("the fault", self.paused)

    def _stop_runner(self):
        if self.runner.poll() is None:
            self.runner.send_signal(signal.SIGINT)
            try:
                self.runner.wait(60)
            except subprocess.TimeoutExpired:
                self.runner.kill()
                self.runner.wait()
        self.stderr.close()

    def finish(self):
        out, _ = self.runner.communicate(timeout=60)
        return self.runner.returncode, out


class ControlApiTest(ApiCase):
    def test_status_events_abort_with_tokens(self):
        tokens = self.write("tokens", f"# game day\nalice {TOKEN}\nbob bob-token-0123456789abcdef\n")
        report = os.path.join(self.dir, "report.html")
        self.start_runner("--control-listen", "127.0.0.1:0", "--control-token-file", tokens,
                          "--report", report)
        base = f"http://127.0.0.1:{self.port}"
        code, body = http("GET", base + "/status")
        self.assertEqual(code, 200)
        st = json.loads(body)
        self.assertEqual(st["title"], "the victim pauses")
        self.assertEqual(st["phase"], "method")
        self.assertEqual(st["faults"][0]["name"], "pause-victim")
        self.assertEqual(st["guards"][0]["name"], "blast-radius")
        # Server-sent events: everything so far, then as it happens.
        sse = subprocess.run(["curl", "-sN", "--max-time", "2", base + "/events"],
                             capture_output=True, text=True)
        self.assertIn("event: injected\n", sse.stdout)
        self.assertRegex(sse.stdout, r'data: \{"at":"[^"]+","kind":"injected","seq":\d+,'
                                     r'"text":"pause-victim on pid \d+')
        # A wrong token: 401, recorded, nothing happens.
        code, body = http("POST", base + "/abort", token="not-the-token-at-all")
        self.assertEqual(code, 401, body)
        code, body = http("POST", base + "/abort")
        self.assertEqual(code, 401, body)
        self.assertTrue(self.paused())
        self.assertIsNone(self.runner.poll())
        code, body = http("POST", base + "/note", token=TOKEN, body={"text": "db latency 12 ms"})
        self.assertEqual((code, json.loads(body)["who"]), (202, "alice"))
        # Taken means on disk: the journal's checkpoint has the note while the run is still in
        # the phase it was in (a SIGKILL now would keep it).
        self.assert_on_disk_in_method("note", "alice", "db latency 12 ms")
        code, body = http("POST", base + "/note", token=TOKEN, body={"txt": 1})
        self.assertEqual(code, 400, body)
        code, body = http("POST", base + "/abort", token=TOKEN)
        self.assertEqual(code, 202, body)
        code, out = self.finish()
        self.assertEqual(code, 1, out)
        self.assertFalse(self.paused())
        j = self.read_journal()
        self.assertEqual(j["status"], "aborted")
        self.assertEqual(j["abort"]["who"], "alice")
        actions = [(a["action"], a["who"]) for a in j["operator_actions"]]
        self.assertEqual(actions[0:2], [("refused", "client 127.0.0.1")] * 2)
        self.assertEqual(actions[2:], [("note", "alice"), ("abort", "alice")])
        self.assertEqual(j["operator_actions"][2]["text"], "db latency 12 ms")
        # The HTML report shows the operator's abort in its banner and every action as a row.
        with open(report) as f:
            html = f.read()
        self.assertIn('data-verdict="aborted">ABORTED BY OPERATOR<span class="why">operator: '
                      'aborted by alice (operator); every active fault was reverted</span>', html)
        rows = re.findall(r'<tr class="operator-row" data-action="([^"]+)">'
                          r'<td>T\+[^<]+<br><small>[0-9:.]+ UTC</small></td><td>([^<]*)</td>'
                          r'(?:<td>|<td class="fail-cell">)[^<]*</td><td>([^<]*)</td></tr>', html)
        self.assertEqual(rows, [
            ("refused", "client 127.0.0.1", "POST /abort: wrong or missing token"),
            ("refused", "client 127.0.0.1", "POST /abort: wrong or missing token"),
            ("note", "alice", "db latency 12 ms"),
            ("abort", "alice", "every active fault reverted")])

    def test_without_a_token_file_only_loopback_gets(self):
        ns = f"rfgd{os.getpid() % 100000}"
        host_if, ns_if = f"rfh{os.getpid() % 100000}", f"rfn{os.getpid() % 100000}"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", ns])
        subprocess.run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
                       check=True)
        self.addCleanup(subprocess.run, ["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "link", "set", ns_if, "netns", ns], check=True)
        subprocess.run(["ip", "addr", "add", "10.213.77.1/30", "dev", host_if], check=True)
        subprocess.run(["ip", "link", "set", host_if, "up"], check=True)
        ns_run = ["ip", "netns", "exec", ns]
        subprocess.run(ns_run + ["ip", "addr", "add", "10.213.77.2/30", "dev", ns_if], check=True)
        subprocess.run(ns_run + ["ip", "link", "set", ns_if, "up"], check=True)
        subprocess.run(ns_run + ["ip", "link", "set", "lo", "up"], check=True)
        self.start_runner("--control-listen", "0.0.0.0:0")
        remote = f"http://10.213.77.1:{self.port}"
        curl = ns_run + ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"]
        self.assertEqual(subprocess.run(curl + ["-X", "POST", remote + "/abort"],
                                        capture_output=True, text=True).stdout, "403")
        self.assertEqual(subprocess.run(curl + [remote + "/status"],
                                        capture_output=True, text=True).stdout, "403")
        local = f"http://127.0.0.1:{self.port}"
        self.assertEqual(http("GET", local + "/status")[0], 200)
        self.assertEqual(http("POST", local + "/abort", token=TOKEN)[0], 403)
        self.assertTrue(self.paused())
        self.assertIsNone(self.runner.poll())
        self.runner.send_signal(signal.SIGINT)
        code, _ = self.finish()
        self.assertEqual(code, 130)
        self.assertFalse(self.paused())
        j = self.read_journal()
        refused = [a for a in j["operator_actions"] if a["action"] == "refused"]
        self.assertEqual([a["who"] for a in refused],
                         ["client 10.213.77.2", "client 10.213.77.2", "client 127.0.0.1"])

    def test_bad_token_files_are_refused_before_anything_runs(self):
        exp = self.write("exp.json", experiment(self.victim.pid))
        loose = self.write("loose", f"alice {TOKEN}\n", mode=0o644)
        short = self.write("short", "alice short\n")
        for path, message in [
            (loose, f"ringfence: --control-token-file {loose}: is group- or world-readable "
                    f"(mode 0644); fix with chmod 600 {loose}; nothing was run\n"),
            (short, f"ringfence: {short}:1: the token of alice is shorter than 16 characters; "
                    "nothing was run\n")]:
            r = subprocess.run(self.run_args(exp, "--control-listen", "127.0.0.1:0",
                                             "--control-token-file", path),
                               capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stderr[-len(message):]), (2, message), r.stderr)
            self.assertFalse(self.paused())


class PageTest(ApiCase):
    """The page in real headless Chromium, driven over --remote-debugging-pipe (CDP)."""

    def test_page_shows_the_run_and_its_button_aborts(self):
        tokens = self.write("tokens", f"carol {TOKEN}\n")
        self.start_runner("--control-listen", "127.0.0.1:0", "--control-token-file", tokens)
        url = f"http://127.0.0.1:{self.port}/#token={TOKEN}"
        profile = os.path.join(self.dir, "chromium")
        r_ours, w_theirs = os.pipe()   # chromium writes to fd 4
        r_theirs, w_ours = os.pipe()   # chromium reads from fd 3
        def fds():
            # Chromium reads CDP on fd 3 and writes on fd 4 (dup first: 3 or 4 may be ours).
            r, w = os.dup(r_theirs), os.dup(w_theirs)
            os.dup2(r, 3)
            os.dup2(w, 4)
        chromium = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1200,900",
             url], pass_fds=(3, 4, r_theirs, w_theirs), preexec_fn=fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(r_theirs)
        os.close(w_theirs)
        def stop_chromium():
            # The whole process group: Chromium's helpers (its network service writes into the
            # profile) would otherwise outlive it and write after the folder is removed.
            try:
                os.killpg(chromium.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            chromium.wait()
            for _ in range(200):  # bounded: until the group is gone (at most 10 s)
                try:
                    os.killpg(chromium.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        self.addCleanup(stop_chromium)
        cdp = Cdp(w_ours, r_ours)
        targets = cdp.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        session = cdp.call("Target.attachToTarget", targetId=page["targetId"],
                           flatten=True)["sessionId"]
        def text():
            return cdp.call("Runtime.evaluate", session=session,
                            expression="document.body.innerText")["result"].get("value", "")
        wait_for("the page to show the run", lambda: "pause-victim" in text(), 30)
        shown = text()
        self.assertIn("ringfence · the victim pauses", shown)
        self.assertIn("blast-radius", shown)
        self.assertIn("ABORT", shown)
        box = cdp.call("Runtime.evaluate", session=session, returnByValue=True,
                       expression="(() => { const r = document.getElementById('abort')"
                                  ".getBoundingClientRect(); return [r.x + r.width / 2, "
                                  "r.y + r.height / 2]; })()")["result"]["value"]
        def click():
            for kind in ("mousePressed", "mouseReleased"):
                cdp.call("Input.dispatchMouseEvent", session=session, type=kind, x=box[0],
                         y=box[1], button="left", clickCount=1)
        click()
        wait_for("the confirm state", lambda: "CONFIRM ABORT" in text(), 10)
        self.assertTrue(self.paused())
        click()
        code, out = self.finish()
        self.assertEqual(code, 1, out)
        self.assertFalse(self.paused())
        j = self.read_journal()
        self.assertEqual((j["status"], j["abort"]["who"]), ("aborted", "carol"))


class Cdp:
    def __init__(self, write_fd, read_fd):
        self.w, self.r, self.next_id, self.buf = write_fd, read_fd, 0, b""

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            while b"\0" not in self.buf:
                chunk = os.read(self.r, 65536)
                if not chunk:
                    raise AssertionError("chromium closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]
        raise AssertionError(method + ": no answer")


class PhasesTest(GameDayCase):
    def test_only_steady_state_injects_nothing(self):
        exp = self.write("exp.json", experiment(self.victim.pid))
        r = subprocess.run(self.run_args(exp, "--only", "steady-state"), capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout,
                         "steady state of the victim pauses (--only steady-state):\n"
                         "  probe victim-alive: met\n"
                         "  guard sources: every one answered\n"
                         "verdict: steady (exit 0); nothing was injected\n")
        self.assertFalse(os.path.exists(self.journal))
        bad = self.write("bad.json", experiment(self.victim.pid, steady_ok=False))
        r = subprocess.run(self.run_args(bad, "--only", "steady-state"), capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("  probe nothing-listens: NOT met", r.stdout)

    def test_from_to_runs_part_of_the_method(self):
        tail = [{"type": "wait", "name": "first", "duration": "100ms"},
                {"type": "wait", "name": "second", "duration": "100ms"},
                {"type": "wait", "name": "third", "duration": "100ms"}]
        exp = self.write("exp.json", experiment(self.victim.pid, "1s", tail))
        r = subprocess.run(self.run_args(exp, "--from", "first", "--to", "second",
                                         "--progress", "never"),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        j = self.read_journal()
        self.assertEqual(j["faults"], [])  # the fault step before --from never ran
        self.assertEqual([m["wait"] for m in j["method"]], ["100ms", "100ms"])
        self.assertEqual(j["method_range"], {"from": "first", "to": "second"})
        self.assertEqual(len(j["steady_state"]["before"]), 1)  # still checked first

    def test_bad_step_names_list_the_steps(self):
        tail = [{"type": "wait", "name": "first", "duration": "100ms"},
                {"type": "wait", "duration": "100ms"}]
        exp = self.write("exp.json", experiment(self.victim.pid, "1s", tail))
        r = subprocess.run(self.run_args(exp, "--from", "frist", "--to", "pause-victim"),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr,
                         f'{exp}: /method: --from "frist": the name of a method step '
                         "(pause-victim, first, wait-2)\n1 error; nothing was run\n")
        r = subprocess.run(self.run_args(exp, "--from", "wait-2", "--to", "first"),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr,
                         f'{exp}: /method: --to "first" is step 1: a step at or after --from '
                         '"wait-2" (step 2)\n1 error; nothing was run\n')
        self.assertFalse(self.paused())
        self.assertFalse(os.path.exists(self.journal))

    def test_step_without_anyone_to_answer_is_refused(self):
        exp = self.write("exp.json", experiment(self.victim.pid))
        r = subprocess.run(self.run_args(exp, "--step"), capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr,
                         "ringfence: --step: nobody could answer: it needs the dashboard on a "
                         "terminal (standard input and error) or --control-listen; nothing was "
                         "run\n")


if __name__ == "__main__":
    BINARY = sys.argv[1]
    name = sys.argv[2]
    suite = unittest.defaultTestLoader.loadTestsFromName(name, sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
