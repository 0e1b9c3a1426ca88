"""Deploy artifacts built by a command: the signer and the rebuild function, for AWS Lambda (one
zip) and Google Cloud Functions (a source directory with `main.py` and `requirements.txt`).

What each deployable needs comes from this distribution's own metadata (pyproject's core
dependencies and extras), minus the distributions its code never imports, and is pinned by the
constraints file generated for it (`feature_registry/constraints/<name>.txt`, written by
`deploy/make_constraints.py`). The project's packages are copied from this install, so the
artifact is the code that is running here.

Lambda: the runtime provides boto3/botocore, so the signer's zip leaves them out; third-party
wheels are fetched for the Lambda platform (`--platform`, `--python-version`) and, when that
version is this interpreter's, byte-compiled (`/var/task` is read-only: without .pyc files every
cold start compiles every module again).
"""

from __future__ import annotations

import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Optional

from registry.errors import BadInput, RegistryError

DIST = "connectomics-feature-registry"
CONSTRAINTS_DIR = Path(__file__).resolve().parent / "constraints"
LAMBDA_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})  # urllib3: botocore's
TARGETS = ("lambda", "gcf")


@dataclass(frozen=True)
class Deployable:
    name: str
    packages: tuple[str, ...]            # import packages of this project copied into the artifact
    extras: dict[str, tuple[str, ...]]    # target -> pyproject extras it needs
    never_imported: frozenset[str]        # distributions of core/extras its code does not import
    lambda_handler: str
    gcf_main: str
    site_files: bool = False              # templates, mkdocs.yml and the vendored browser scripts
    extra_requirements: dict[str, tuple[str, ...]] = field(default_factory=dict)


SIGNER = Deployable(
    name="signer",
    packages=("registry", "signer_function"),
    extras={"lambda": ("signer",), "gcf": ("signer",)},
    # click/rich: the CLI; pyyaml: spec files; the Lambda signer signs S3 (GCS libraries left out).
    # pydantic/fsspec/requests: the signer reads documents with signer_function/document.py and
    # registry/object_reads.py, and calls out on urllib3 (tests/signer/test_registry_reader.py).
    never_imported=frozenset({"click", "rich", "pyyaml", "pydantic", "fsspec", "requests"}),
    lambda_handler="signer_function.aws_lambda.handler",
    gcf_main='"""Cloud Functions entry point (--entry-point=sign)."""\nfrom signer_function.main import sign  # noqa: F401\n',
)
SIGNER_LAMBDA_SKIP = frozenset({"google-cloud-storage", "google-auth", "functions-framework"})

REBUILD = Deployable(
    name="rebuild-function",
    packages=("registry", "site_builder"),
    extras={"lambda": ("site", "s3"), "gcf": ("site", "gcs")},
    never_imported=frozenset({"rich"}),
    lambda_handler="site_builder.rebuild_function.handler",
    gcf_main='"""Cloud Functions entry point (--entry-point=on_storage_event)."""\n'
             'from site_builder.rebuild_function import on_storage_event  # noqa: F401\n',
    site_files=True,  # its Lambda zip bundles botocore: s3fs (aiobotocore) pins its own version
    extra_requirements={"gcf": ("functions-framework>=3.5,<4",)},
)
DEPLOYABLES = {d.name: d for d in (SIGNER, REBUILD)}


def _name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def declared_requirements() -> list[str]:
    """Requires-Dist of this distribution: from the checkout's pyproject.toml when running from
    one (the metadata of an editable install can be older than the file), else the installed
    metadata."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.is_file() and sys.version_info >= (3, 11):
        import tomllib

        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        out = list(project.get("dependencies", []))
        for extra, reqs in project.get("optional-dependencies", {}).items():
            out += [f'{r}; extra == "{extra}"' for r in reqs]
        return out
    try:
        return metadata.requires(DIST) or []
    except metadata.PackageNotFoundError:
        raise RegistryError(f"{DIST} is not installed (pip install it, or `pip install -e .` in a checkout)") from None


def requirements(dep: Deployable, target: str) -> list[str]:
    """The deployable's third-party requirements (PEP 508 strings from this distribution's
    metadata, self-referencing extras expanded), without what it never imports."""
    declared = declared_requirements()
    wanted, seen, out = list(dep.extras[target]), set(), []
    core = [r for r in declared if "extra ==" not in r]
    out += core
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for r in declared:
            body, _, marker = r.partition(";")
            if re.search(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]", marker):
                if _name(body) == DIST:
                    wanted += re.findall(r"[\w-]+", body.split("[", 1)[1].split("]", 1)[0]) if "[" in body else []
                else:
                    out.append(body.strip())
    out += list(dep.extra_requirements.get(target, ()))
    skip = set(dep.never_imported)
    if target == "lambda" and dep is SIGNER:
        skip |= SIGNER_LAMBDA_SKIP | LAMBDA_PROVIDED
    result, names = [], set()
    for r in out:
        n = _name(r)
        if n not in skip and n not in names:
            names.add(n)
            result.append(r.split(";")[0].strip() if "extra ==" in r else r.strip())
    return result


def constraints_file(dep: Deployable) -> Optional[Path]:
    path = CONSTRAINTS_DIR / f"{dep.name}.txt"
    return path if path.is_file() else None


def _version() -> str:
    from registry import __version__

    return __version__


@dataclass
class Artifact:
    target: str
    path: str
    size: int
    requirements: list[str]

    def summary(self) -> str:
        kind = "zip" if self.target == "lambda" else "source dir"
        return f"{self.target} {kind} {self.path} ({self.size / 1e6:.1f} MB)"


def _copy_packages(dep: Deployable, dest: Path) -> None:
    import importlib

    for pkg in dep.packages:
        src = Path(str(importlib.import_module(pkg).__file__)).resolve().parent
        shutil.copytree(src, dest / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
    if dep.site_files:
        from site_builder.build import base_config_path
        from site_builder.pages import templates_dir
        from site_builder.vendor import PACKAGED, copy_vendor

        shutil.copytree(templates_dir(), dest / "templates", dirs_exist_ok=True)
        shutil.copyfile(base_config_path(), dest / "mkdocs.yml")
        staged = Path(tempfile.mkdtemp(prefix="vendor-"))
        try:  # the packaged layout (site_builder/_vendor/<package>/<file>) from wherever they are found
            copy_vendor(str(staged))  # VendorMissing is a RegistryError: the command says it, exit 1
            shutil.rmtree(dest / "site_builder" / PACKAGED.name, ignore_errors=True)
            shutil.copytree(staged / "assets" / "vendor", dest / "site_builder" / PACKAGED.name)
        finally:
            shutil.rmtree(staged, ignore_errors=True)


def _pip_target(reqs: list[str], dest: Path, dep: Deployable, platform: str, python_version: str) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--target", str(dest), "--only-binary=:all:", "--platform", platform,
           "--python-version", python_version, "--implementation", "cp"]
    cons = constraints_file(dep)
    if cons:
        cmd += ["--constraint", str(cons)]
    proc = subprocess.run(cmd + reqs, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise RegistryError(f"pip could not fetch the {dep.name}'s dependencies for {platform} / Python "
                            f"{python_version}:\n{tail}")
    for junk in ("bin", "share"):
        shutil.rmtree(dest / junk, ignore_errors=True)


def _zip_dir(src: Path, out: Path) -> None:
    tmp = out.with_suffix(".zip.partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(src).as_posix())
    os.replace(tmp, out)  # never a half-written zip under the final name


def package(name: str, target: str, out_dir: str, *, platform: str = "manylinux2014_x86_64",
            python_version: str = "3.12") -> Artifact:
    """Write the deployable `name` for `target` into `out_dir`."""
    if name not in DEPLOYABLES:
        raise BadInput(f"unknown deployable {name!r}; one of {', '.join(DEPLOYABLES)}")
    if target not in TARGETS:
        raise BadInput(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")
    if not re.fullmatch(r"3\.\d{1,2}", python_version):
        raise BadInput(f"--python-version must look like 3.12, not {python_version!r}")
    dep = DEPLOYABLES[name]
    reqs = requirements(dep, target)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if target == "gcf":
        final = out / f"{dep.name}-gcf"
        stage = Path(tempfile.mkdtemp(prefix=f".{dep.name}-", dir=out))
        try:
            _copy_packages(dep, stage)
            (stage / "main.py").write_text(dep.gcf_main, encoding="utf-8")
            cons = constraints_file(dep)
            pins = {_name(line): line.strip() for line in (cons.read_text().splitlines() if cons else [])
                    if line.strip() and not line.startswith("#")}
            lines = [pins.get(_name(r), r) if _name(r) in pins else r for r in reqs]
            (stage / "requirements.txt").write_text(
                f"# {dep.name} for Google Cloud Functions, from {DIST} {_version()}\n"
                + "\n".join(lines) + "\n", encoding="utf-8")
            shutil.rmtree(final, ignore_errors=True)
            os.replace(stage, final)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        size = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
        return Artifact(target, str(final), size, reqs)
    with tempfile.TemporaryDirectory(prefix=f"{dep.name}-lambda-") as tmp:
        stage = Path(tmp) / "root"
        stage.mkdir()
        _pip_target(reqs, stage, dep, platform, python_version)
        _copy_packages(dep, stage)
        if python_version == f"{sys.version_info.major}.{sys.version_info.minor}":
            # Unchecked-hash .pyc: valid whatever mtime unzipping gives the sources (zip keeps
            # 2-second times, which a timestamp .pyc would take for a changed source).
            compileall.compile_dir(str(stage), quiet=1, workers=1,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        final = out / f"{dep.name}-lambda.zip"
        _zip_dir(stage, final)
    return Artifact(target, str(final), final.stat().st_size, reqs)
