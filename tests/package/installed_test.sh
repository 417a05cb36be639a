#!/usr/bin/env bash
# The installed ringfence, from its installed paths only (docs/install.md):
#   installed_test.sh tree SOURCE_DIR BUILD_DIR   cmake --install into a DESTDIR (prefix /usr/local)
#   installed_test.sh deb SOURCE_DIR BUILD_DIR    scripts/package (lintian must pass), dpkg -x;
#                                                 then a real apt-get install ./ringfence_*.deb and
#                                                 purge when that is safe here (below;
#                                                 RINGFENCE_TEST_APT=0: never)
# Then, with the source tree hidden under an empty tmpfs (a private mount namespace):
# --version, faults, validate of every installed scenario and template, init for every template,
# ringfence demo; the man pages render without a groff warning; bash completes the commands,
# run's options, option values, fault types and templates. Cleans up everything it made.
set -euo pipefail
# (grep without -q after a pipe: it reads all of its input, so the writer never dies of SIGPIPE,
# which pipefail would count as a failure.)
mode=$1
# The source tree is hidden with a tmpfs mounted in a private mount namespace: root only.
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (to hide the source tree)"; exit 77; }
src=$(cd "$2" && pwd)
build=$(cd "$3" && pwd)

tmp=$(mktemp -d /tmp/ringfence-installed.XXXXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

root=$tmp/root
case "$mode" in
  tree)
    prefix=/usr/local
    DESTDIR=$root cmake --install "$build" --prefix $prefix >"$tmp/install.log" ||
      { cat "$tmp/install.log" >&2; fail "cmake --install"; }
    ;;
  deb)
    prefix=/usr
    deb=$("$src/scripts/package" --no-dbgsym --no-build --build-dir "$build" --out "$tmp/out" 2>"$tmp/package.log") ||
      { cat "$tmp/package.log" >&2; fail "scripts/package"; }
    cat "$tmp/package.log"
    size=$(stat -c %s "$deb")
    echo "package: $deb, $size bytes"
    ((size < 15 * 1024 * 1024)) || fail "the package is $size bytes (at most 15 MB)"
    depends=$(dpkg-deb -f "$deb" Depends)
    [[ $depends == *libc6* ]] || fail "Depends was not computed from the shared libraries: $depends"
    [ "$(dpkg-deb -f "$deb" Version)" = "$(sed -n 's/^project(ringfence VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ] ||
      fail "the package's version is not project()'s"
    dpkg-deb -c "$deb" | grep '/usr/lib/debug' >/dev/null && fail "debug information in the runtime package"
    dpkg -x "$deb" "$root"
    ;;
  *) fail "mode tree or deb" ;;
esac

bin=$root$prefix/bin
share=$root$prefix/share
# What is installed, and how.
for f in "$bin/ringfence" "$bin/ringfence-demo-service" "$share/ringfence/scenarios/demo-game-day.json" \
  "$share/ringfence/scenarios/inventories/staging.json" "$share/ringfence/schema/experiment.schema.json" \
  "$share/ringfence/templates/kill-and-restart.json" "$share/man/man1/ringfence.1.gz" \
  "$share/man/man1/ringfence-run.1.gz" "$share/man/man1/ringfence-init.1.gz" \
  "$share/man/man1/ringfence-demo-service.1.gz" "$share/bash-completion/completions/ringfence" \
  "$share/doc/ringfence/README.md" "$share/doc/ringfence/copyright" "$share/doc/ringfence/changelog.gz" \
  "$share/doc/ringfence/docs/install.md" "$root$prefix/lib/systemd/system/ringfence-recover.service" \
  "$root$prefix/lib/systemd/system/ringfence-scheduler.service"; do
  [ -e "$f" ] || fail "not installed: ${f#"$root"}"
done
for program in ringfence ringfence-demo-service; do
  readelf -S "$bin/$program" | grep '\.debug_info' >/dev/null && fail "$program is not stripped"
  readelf -S "$bin/$program" | grep '\.gnu_debuglink' >/dev/null || fail "$program has no .gnu_debuglink"
done
if [ "$mode" = tree ]; then
  n=$(find "$root$prefix/lib/debug/.build-id" -name '*.debug' | wc -l)
  [ "$n" = 2 ] || fail "expected 2 debug files under lib/debug/.build-id, found $n"
fi
units=$root$prefix/lib/systemd/system
grep -qx "ExecStart=$prefix/bin/ringfence recover" "$units/ringfence-recover.service" ||
  fail "ringfence-recover.service does not start $prefix/bin/ringfence"
grep -qx "ExecStart=$prefix/bin/ringfence scheduler /etc/ringfence/schedule.json" \
  "$units/ringfence-scheduler.service" || fail "ringfence-scheduler.service does not start $prefix/bin/ringfence"
for unit in ringfence-recover.service ringfence-scheduler.service; do
  [ "$(stat -c %a "$units/$unit")" = 644 ] || fail "$unit is not mode 644"
  if command -v systemd-analyze >/dev/null; then
    # The unit names the binary at its final path: check it with the binary where it will be.
    sed "s|^ExecStart=$prefix/bin/|ExecStart=$bin/|" "$units/$unit" >"$tmp/$unit"
    systemd-analyze verify --man=no "$tmp/$unit" >"$tmp/verify.log" 2>&1 ||
      { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify $unit"; }
    [ -s "$tmp/verify.log" ] && { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify $unit warns"; }
  fi
done

# Man pages: render, and no warning from groff.
for page in "$share"/man/man1/*.1.gz; do
  warnings=$(zcat "$page" | groff -ww -man -z 2>&1)
  [ -z "$warnings" ] || fail "groff warns on ${page##*/}: $warnings"
  MANWIDTH=100 man -l "$page" 2>"$tmp/man.err" | grep '^NAME' >/dev/null || fail "man -l ${page##*/} does not render"
  [ -s "$tmp/man.err" ] && { cat "$tmp/man.err" >&2; fail "man -l ${page##*/} printed errors"; }
done
MANWIDTH=100 man -l "$share/man/man1/ringfence-run.1.gz" 2>/dev/null | grep -- '--dry-run' >/dev/null ||
  fail "ringfence-run(1) does not show --dry-run"

# The files the bad-update template reads while it validates, and the scenarios' demo fleet.
work=$tmp/work
mkdir -p "$work"
printf '# content: records of comma-separated fields\na,b,c\nd,e,f\n' >"$work/good.txt"
hosts() {  # hosts N: a bad_update hosts file of N local hosts
  local list='[' i
  for ((i = 0; i < $1; i++)); do
    list+="{\"name\": \"h$i\", \"path\": \"$work/c$i.txt\", \"health_url\": \"http://127.0.0.1:9/health\", \"vars\": {\"port\": \"9\"}}"
    ((i + 1 < $1)) && list+=','
  done
  printf '%s]\n' "$list"
}
hosts 10 >"$work/hosts.json"
hosts 20 >"$work/hosts20.json"

cat >"$tmp/inside.sh" <<INSIDE
set -euo pipefail
fail() { echo "FAIL: \$*" >&2; exit 1; }
[ -z "\$(ls -A "$src")" ] || fail "the source tree is still visible"
cd "$work"
export PATH="$bin:/usr/sbin:/usr/bin:/sbin:/bin"
unset RINGFENCE_SCENARIOS
ringfence --version | tee version.txt
grep -q '^ringfence [0-9]' version.txt && grep -q '^build: commit [0-9a-f]*\|^build: commit unknown' version.txt ||
  fail "--version"
ringfence faults | grep '^process_kill (process fault)' >/dev/null || fail "ringfence faults"
# Every installed scenario, with the placeholder values the scenario tests use.
ringfence validate "$share"/ringfence/scenarios/*.json --var demo_hosts_file="$work/hosts20.json" \
  --var demo_good_content="$work/good.txt" --var demo_fleet_id=f1 --var demo_fleet_size=5 \
  --var demo_fleet_min_alive=4 --var demo_port_0=8080 --var demo_port_last=8084 --var port=8080 \
  --var data_dir=/mnt/data --var address=127.0.0.1 --var upstream=127.0.0.1:8080 \
  --var listen=127.0.0.1:18080
template_vars=(--var service_cmdline=^/usr/sbin/nginx --var health_url=http://127.0.0.1:8080/health
  --var dependency_port=5432 --var data_dir=/mnt/data --var hosts_file="$work/hosts.json"
  --var artifact="$work/good.txt" --var deploy_script=/usr/local/bin/deploy-content)
ringfence validate "$share"/ringfence/templates/*.json "\${template_vars[@]}"
# As templates: structure only, every placeholder left unfilled and listed (exit 0).
ringfence validate --templates "$share"/ringfence/scenarios/*.json "$share"/ringfence/templates/*.json \
  >templates.out || { cat templates.out >&2; fail "validate --templates of the installed files"; }
for t in \$(ls "$share/ringfence/templates" | sed 's/\.json\$//'); do
  ringfence init --template "\$t" -o "init-\$t.json" 2>/dev/null
  cmp -s "init-\$t.json" "$share/ringfence/templates/\$t.json" || fail "init --template \$t differs from the installed template"
  ringfence validate "init-\$t.json" "\${template_vars[@]}"
  ringfence validate --templates "init-\$t.json" >/dev/null || fail "validate --templates init-\$t.json"
done
# The demo, with its default scenario from the installed share/ringfence/scenarios.
ringfence demo --state-dir "$work/state" --journal "$work/journal.json" >demo.out 2>demo.err ||
  { cat demo.out demo.err >&2; fail "ringfence demo"; }
grep -qxF "demo: running $share/ringfence/scenarios/demo-game-day.json" demo.out ||
  { cat demo.out demo.err >&2; fail "the demo did not run the installed scenario"; }
/usr/bin/python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["status"] != "passed")' \
  "$work/journal.json" || fail "the demo's journal does not say passed"
INSIDE
unshare --mount --propagation private sh -c "mount -t tmpfs -o size=1m,mode=0755 none '$src' && exec bash '$tmp/inside.sh'" ||
  fail "the installed ringfence, source tree hidden"

# Bash completion, in a real interactive bash: the function the installed script registers,
# called as bash calls it.
complete_words() {  # complete_words WORD... : what bash offers for the last word
  local line
  printf -v line '%q ' "$@"
  bash --norc --noprofile -i -c "
    [ -r /usr/share/bash-completion/bash_completion ] && source /usr/share/bash-completion/bash_completion
    source '$share/bash-completion/completions/ringfence'
    complete -p ringfence >/dev/null || exit 9
    cd '$work'
    COMP_WORDS=($line); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
    [ -n \"\${COMP_WORDS[COMP_CWORD]}\" ] || true
    _ringfence ringfence
    printf '%s\n' \"\${COMPREPLY[@]}\"" 2>/dev/null
}
expect_offers() {  # expect_offers "WORD..." EXPECTED...
  local words=$1; shift
  # shellcheck disable=SC2086
  local offered; offered=$(complete_words $words "")
  for e in "$@"; do grep -qx -- "$e" <<<"$offered" || fail "completing '$words ' offers no $e (offered: $(echo $offered))"; done
}
expect_offers "ringfence" run validate faults init demo recover status help
expect_offers "ringfence run" demo.out good.txt
offered=$(complete_words ringfence run -)
for e in --dry-run --journal --var --seed --progress --help -h --log-format; do
  grep -qx -- "$e" <<<"$offered" || fail "completing 'ringfence run -' offers no $e"
done
expect_offers "ringfence run --progress" auto always never
expect_offers "ringfence --log-format" text json
expect_offers "ringfence faults" process_kill latency disk_fill bad_update
expect_offers "ringfence init --template" kill-and-restart pause latency-to-dependency disk-fill bad-update-rehearsal
offered=$(complete_words ringfence init -)
for e in --template --output -o; do
  grep -qx -- "$e" <<<"$offered" || fail "completing 'ringfence init -' offers no $e"
done
expect_offers "ringfence help" run init
offered=$(complete_words ringfence run --dr)
[ "$offered" = --dry-run ] || fail "completing 'ringfence run --dr' offers '$offered'"
offered=$(complete_words ringfence validate init-kill)
[ "$offered" = init-kill-and-restart.json ] || fail "completing a file name offers '$offered'"

# Typed at a terminal: Tab in an interactive bash in tmux completes the command, an option and
# its value.
sock=ringfence-completion-$$
tmux -L "$sock" new-session -d -x 150 -y 20 -c "$work" "bash --norc --noprofile -i"
trap 'tmux -L "$sock" kill-server 2>/dev/null; cleanup' EXIT
pane_shows() {  # pane_shows TEXT: wait (at most 10 s) until the pane holds TEXT (trailing blanks
  # are not captured)
  local i
  for ((i = 0; i < 200; i++)); do
    [[ $(tmux -L "$sock" capture-pane -p) == *"$1"* ]] && return 0
    sleep 0.05
  done
  tmux -L "$sock" capture-pane -p >&2
  return 1
}
tmux -L "$sock" send-keys "PS1='R\$((1 + 1))> '; source /usr/share/bash-completion/bash_completion; source '$share/bash-completion/completions/ringfence'" Enter
pane_shows 'R2>' || fail "bash in tmux did not start"
tmux -L "$sock" send-keys "ringfence ru" Tab
pane_shows 'R2> ringfence run' || fail "Tab did not complete 'ringfence ru'"
tmux -L "$sock" send-keys -- "--dr" Tab
pane_shows 'R2> ringfence run --dry-run' || fail "Tab did not complete 'ringfence run --dr'"
tmux -L "$sock" send-keys -- "--progress al" Tab
pane_shows 'R2> ringfence run --dry-run --progress always' || fail "Tab did not complete '--progress al'"
tmux -L "$sock" kill-server
trap cleanup EXIT

# A real apt-get install of the .deb and its purge, by default when root (RINGFENCE_TEST_APT=0
# turns it off), only when it is safe on this machine: no ringfence package is installed (nor
# left configured: never touched), and every dependency is installed already (a simulation
# first: when it would install anything else, which would mean downloading, it is skipped; apt's
# --no-download cannot install a local .deb). Bounded: apt waits at most 60 s for the dpkg lock. Whatever fails after the install, the package is purged again (trap).
apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o DPkg::Lock::Timeout=60 "$@"; }
if [ "$mode" = deb ] && [ "${RINGFENCE_TEST_APT:-1}" != 0 ]; then
  known=$(dpkg-query -W -f '${db:Status-Abbrev}' ringfence 2>/dev/null || true)
  cp "$deb" "$tmp/apt.deb"
  if [ -n "$known" ] && [ "$known" != "un " ]; then
    echo "apt-get install skipped: a ringfence package is known to dpkg already ($known): not touching it"
  elif ! (cd "$tmp" && apt-get install --simulate -q ./apt.deb) >"$tmp/simulate.log" 2>&1; then
    cat "$tmp/simulate.log" >&2
    fail "apt-get install --simulate ./apt.deb"
  elif grep '^Inst ' "$tmp/simulate.log" | grep -v '^Inst ringfence ' >"$tmp/missing.log"; then
    echo "apt-get install skipped: it would install more than ringfence (downloads: not here):"
    cat "$tmp/missing.log"
  else
    purge() { apt_quiet purge ringfence >"$tmp/purge.log" 2>&1; }
    state_dir_before=no
    [ -e /var/lib/ringfence ] && state_dir_before=yes
    trap 'purge; cleanup' EXIT
    (cd "$tmp" && apt_quiet install ./apt.deb) >"$tmp/apt.log" 2>&1 ||
      { cat "$tmp/apt.log" >&2; fail "apt-get install ./ringfence_*.deb"; }
    files=$(dpkg -L ringfence)
    [ "$(dpkg-query -W -f '${Version}' ringfence)" = "$(dpkg-deb -f "$deb" Version)" ] ||
      fail "dpkg does not know the version installed"
    /usr/bin/ringfence --version | grep '^ringfence ' >/dev/null || fail "installed /usr/bin/ringfence"
    man -w ringfence-run >/dev/null || fail "man ringfence-run"
    purge || { cat "$tmp/purge.log" >&2; fail "apt-get purge ringfence"; }
    trap cleanup EXIT
    left=0
    while read -r f; do
      # Directories shared with other packages (/usr/bin) stay; ringfence's own must go.
      if [ -d "$f" ]; then
        [[ $f == *ringfence* ]] && { echo "left after purge: $f/" >&2; left=1; }
      elif [ -e "$f" ] || [ -L "$f" ]; then
        echo "left after purge: $f" >&2
        left=1
      fi
    done <<<"$files"
    ((left == 0)) || fail "apt-get purge left files of the package behind"
    # The state dir is the one thing a purge keeps (docs/install.md); the package never makes it.
    if [ "$state_dir_before" = no ] && [ -e /var/lib/ringfence ]; then
      fail "/var/lib/ringfence appeared with the package"
    fi
    known=$(dpkg-query -W -f '${db:Status-Abbrev}' ringfence 2>/dev/null || true)
    [ -z "$known" ] || [ "$known" = "un " ] || fail "still known to dpkg after purge ($known)"
    echo "apt-get install and purge: ok ($(wc -l <<<"$files") paths, none left)"
  fi
fi
echo "ok: $mode"
