"""Ship the cold path compiled: add bytecode to `deployment.zip` for what each function imports at init.

Lambda's /var/task is read-only, so Python cannot cache bytecode there: every module without a
`.pyc` in the package is compiled from source on every cold start (measured: about 1 s of a full
core for `api_handler`'s init, 3.5 s on a 512 MB share). `chalice package` ships none for the
dependencies it installs. This adds `__pycache__/*.pyc` in unchecked-hash mode (valid whatever
the files' times after unzipping) for the modules each function imports in its init, found by
importing `app` as that function from the unpacked package. Everything else (what only a first
invoke, the lazy work or the nightly audit imports) stays source only, to keep the package small;
what only pip and type checkers read (RECORD, SBOMs, `.pyi` stubs) is left out.

Run by `make package`: `python -m devtools.precompile build/package/deployment.zip`.
"""

from __future__ import annotations

import json
import os
import py_compile
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from chalicelib.container import WARM_MODULES

FUNCTIONS = (*WARM_MODULES, "nightly_iam_audit")
LIST_IMPORTS = r"""
import json, os, sys
import app
root = os.path.realpath(sys.argv[1])
print(json.dumps(sorted({
    os.path.relpath(os.path.realpath(m.__file__), root)
    for m in list(sys.modules.values())
    if getattr(m, "__file__", None) and os.path.realpath(m.__file__).startswith(root + os.sep)
})))
"""


def init_modules(package: Path, function: str) -> set[str]:
    """The package's files that `function` imports in its init phase (no network: no secrets read)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(package),
        "AWS_LAMBDA_FUNCTION_NAME": f"shepherd-package-{function}",
        "AWS_ACCESS_KEY_ID": "package",
        "AWS_SECRET_ACCESS_KEY": "package",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [sys.executable, "-B", "-c", LIST_IMPORTS, str(package)],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout))


def build_only(name: str) -> bool:
    """What only pip and type checkers read: an installed file list, a bill of materials, stubs.
    (METADATA's headers and licences stay: importlib.metadata reads the one, the law wants the
    other; METADATA's long description goes, `headers_only`.)"""
    return (
        name.endswith((".dist-info/RECORD", ".dist-info/INSTALLER", ".pyi", "/py.typed"))
        or ".dist-info/sboms/" in name
    )


# Parts of the Slack SDKs Shepherd never loads: other Slack APIs (Socket Mode, RTM, Audit Logs,
# SCIM) and Bolt's adapters for other frameworks (Shepherd's is aws_lambda's chalice handler).
# Were one needed at init, listing the init imports from the pruned package would fail first.
UNUSED = (
    "slack_sdk/socket_mode/",
    "slack_sdk/rtm/",
    "slack_sdk/rtm_v2/",
    "slack_sdk/audit_logs/",
    "slack_sdk/scim/",
)
BOLT_ADAPTERS = "slack_bolt/adapter/"


def unused(name: str) -> bool:
    if name.startswith(UNUSED):
        return True
    if name.startswith(BOLT_ADAPTERS):
        rest = name.removeprefix(BOLT_ADAPTERS)
        return "/" in rest and not rest.startswith("aws_lambda/")
    return False


def headers_only(metadata: bytes) -> bytes:
    """A distribution's METADATA without its long description (the project's README, tens of KB
    for pydantic): importlib.metadata reads the headers (name, version, requirements), nothing
    at run time reads the rest."""
    head, sep, _ = metadata.partition(b"\n\n")
    return head + (b"\n" if sep else b"")


def precompile(zip_path: Path) -> tuple[int, int, int]:
    """(files compiled, size before, size after) of the rewritten zip."""
    before = zip_path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp)
        with zipfile.ZipFile(zip_path) as z:
            infos = [
                i
                for i in z.infolist()
                if "__pycache__/" not in i.filename
                and not build_only(i.filename)
                and not unused(i.filename)
            ]
            for info in infos:
                z.extract(info, package)
                mode = info.external_attr >> 16
                if mode:
                    os.chmod(package / info.filename, mode)
        wanted = {f for function in FUNCTIONS for f in init_modules(package, function)}
        compiled = []
        for name in sorted(f for f in wanted if f.endswith(".py")):
            target = py_compile.compile(
                str(package / name),
                cfile=None,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            compiled.append(Path(target).relative_to(package))
        rewritten = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for info in infos:
                data = (package / info.filename).read_bytes()
                if info.filename.endswith(".dist-info/METADATA"):
                    data = headers_only(data)
                out.writestr(info, data)
            for pyc in compiled:
                info = zipfile.ZipInfo(str(pyc), date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, (package / pyc).read_bytes())
        rewritten.replace(zip_path)
    return len(compiled), before, zip_path.stat().st_size


def main() -> None:
    zip_path = Path(sys.argv[1] if len(sys.argv) > 1 else "build/package/deployment.zip")
    count, before, after = precompile(zip_path)
    print(
        f"{zip_path}: {count} modules precompiled for the cold path "
        f"({before / 1e6:.2f} MB → {after / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()
