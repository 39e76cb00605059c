#!/usr/bin/env bash
# Runs inside the fresh bookworm container of build/install_test.sh (as root; the app runs as "tester").
# $DEB is the package; /out is the host's output folder.  Every step prints one line a reader can check.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
step() { printf '[inside %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { echo "INSTALL TEST FAILED: $*" >&2; exit 1; }

step "apt-get update"
apt-get update -qq
# tools of the test, not of the app: a virtual X server, gio (MIME lookup and launch), procps (pgrep)
apt-get install -y -qq --no-install-recommends xvfb xauth libglib2.0-bin procps >/dev/null
before=$(dpkg-query -W -f='${binary:Package}\n' | sort)

step "apt-get install ./$(basename "$DEB")"
t0=$(date +%s)
apt-get install -y -qq "$DEB" >/tmp/apt-install.log 2>&1 || { tail -30 /tmp/apt-install.log; fail "apt-get install"; }
echo "installed in $(( $(date +%s) - t0 )) s with $(comm -13 <(echo "$before") <(dpkg-query -W -f='${binary:Package}\n' | sort) | wc -l) packages (incl. dependencies)"
dpkg-query -W -f='${Package} ${Version} ${Installed-Size} KB installed\n' reelwright
test -x /opt/reelwright/Reelwright || fail "/opt/reelwright/Reelwright missing"
test -f /usr/share/applications/reelwright.desktop || fail "no desktop entry"
test -f /usr/share/icons/hicolor/scalable/apps/reelwright.svg || fail "no icon"
test -f /usr/share/mime/application/x-reelwright-job.xml || fail "MIME type not registered (update-mime-database trigger)"
dpkg-query -W -f='${Status}\n' chromium-headless-shell | grep -q 'install ok installed' \
  || fail "the recommended chromium-headless-shell was not installed"

useradd -m -s /bin/bash tester
H=/home/tester
as_tester() { runuser -u tester -- env -i HOME=$H USER=tester PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
  DISPLAY=$DISP XDG_RUNTIME_DIR=/tmp/runtime-tester "$@"; }
install -d -o tester -m 700 /tmp/runtime-tester
install -d -m 1777 /tmp/.X11-unix   # a user's X server cannot create it; a desktop's root session does
# Xvfb picks a free display and writes its number to fd 3: the container shares the host's network
# namespace, where an X server of the host (a developer's Xvfb :99) holds the abstract socket of its display
: > /tmp/xvfb.display
runuser -u tester -- Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp >/tmp/xvfb.log 2>&1 3>/tmp/xvfb.display &
XVFB_PID=$!
for _ in $(seq 100); do [ -s /tmp/xvfb.display ] && break; sleep 0.1; done
[ -s /tmp/xvfb.display ] || { cat /tmp/xvfb.log; fail "Xvfb did not start"; }
DISP=":$(head -1 /tmp/xvfb.display | tr -d '[:space:]')"
echo "Xvfb on display $DISP"

step "Reelwright --version --verbose"
as_tester Reelwright --version --verbose | tee /out/version.txt
grep -q "Chromium 1" /out/version.txt || fail "no Chromium version (headless shell not found?)"

step "Reelwright --self-test (xcb on Xvfb, no Python on PATH)"
as_tester Reelwright --self-test --out-dir $H/selftest 2>&1 | tee /out/self-test.txt
grep -q "self-test passed" /out/self-test.txt || fail "self-test"

step "Reelwright --smoke-screenshot"
as_tester Reelwright --smoke-screenshot $H/smoke.png 2>&1 | tee /out/smoke.txt
cp $H/smoke.png /out/smoke.png
grep -o "first paint after [0-9.]* s" /out/smoke.txt | head -1 | sed 's/^/installed app: /'

step "render the bundled example (reelwright render)"
EXAMPLE=/opt/reelwright/_internal/resources/examples/quickstart
t0=$(date +%s)
# RENDER_ARGS (from $REELWRIGHT_ITEST_RENDER_ARGS on the host): the test suite asks for a small, quick
# render (the same code path at a quarter of the pixels); `make install-test` renders it as users would
# shellcheck disable=SC2086
as_tester reelwright render $EXAMPLE/script.json --out $H/quickstart.mp4 --no-music ${RENDER_ARGS:-} -q 2>&1 | tail -5
[ -s $H/quickstart.mp4 ] || fail "no video rendered"
echo "rendered $H/quickstart.mp4: $(stat -c %s $H/quickstart.mp4) bytes in $(( $(date +%s) - t0 )) s"
FFMPEG=$(ls /opt/reelwright/_internal/imageio_ffmpeg/binaries/ffmpeg-*)
{ "$FFMPEG" -hide_banner -i $H/quickstart.mp4 2>&1 || true; } | grep -E "Duration|Stream" | sed 's/^ */  /'
"$FFMPEG" -hide_banner -loglevel error -ss 3 -i $H/quickstart.mp4 -frames:v 1 -y /out/quickstart-frame.png
cp $H/quickstart.mp4 /out/quickstart.mp4

step "open a job bundle through its MIME type (gio, as a file manager does)"
as_tester reelwright bundle $EXAMPLE/script.json --out $H/tour.reelwright.zip
type=$(as_tester gio info -a standard::content-type $H/tour.reelwright.zip | sed -n 's/.*standard::content-type: //p')
echo "content type of tour.reelwright.zip: $type"
[ "$type" = application/x-reelwright-job ] || fail "MIME type is '$type'"
as_tester gio mime application/x-reelwright-job | tee /tmp/gio-mime.txt
grep -q "Default application.*reelwright.desktop" /tmp/gio-mime.txt || fail "reelwright.desktop is not the default application"
as_tester gio open $H/tour.reelwright.zip
LOG=$H/.local/state/reelwright/log/reelwright.log
for _ in $(seq 120); do grep -q "as project" $LOG 2>/dev/null && break; sleep 0.5; done
grep "opened .*tour.reelwright.zip as project" $LOG || fail "the app did not open the bundle (see $LOG)"
APP_PID=$(pgrep -n -u tester -x Reelwright) || fail "the app launched by gio is not running"
sleep 2  # let it paint; then look at it through its own smoke mode below
kill "$APP_PID"
for _ in $(seq 50); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.2; done
as_tester Reelwright --smoke-screenshot $H/opened.png $H/tour.reelwright.zip >/dev/null 2>&1
cp $H/opened.png /out/opened-bundle.png

step "apt-get purge reelwright"
kill "$XVFB_PID" 2>/dev/null || true
apt-get purge -y -qq reelwright >/tmp/apt-purge.log 2>&1 || { cat /tmp/apt-purge.log; fail "purge"; }
dpkg-query -W -f='${Status}\n' reelwright 2>/dev/null | grep -q installed && fail "still installed"
left=$(find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path $H -o -path /out -o -path /itest \
  -o -path /tmp/pkg -o -path /var/log \) -prune -o -iname '*reelwright*' -print)
if [ -n "$left" ]; then echo "$left"; fail "files of the app are left after purge"; fi
mentions=$(grep -rlis reelwright /usr/share/applications /usr/share/mime /usr/share/icons /etc /opt /usr/bin 2>/dev/null || true)
if [ -n "$mentions" ]; then echo "$mentions"; fail "system files still name the app after purge"; fi
echo "after purge nothing of the app is left outside $H; the user's data stays:"
(cd $H && find .local .cache -maxdepth 3 -path '*reelwright*' -prune -print 2>/dev/null | sed 's/^/  ~\//')
step "all steps passed"
