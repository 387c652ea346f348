#!/usr/bin/env python3
"""Static checks of deploy/Dockerfile (the image cannot be built here):

- two stages: `FROM debian:12 AS build`, then `FROM debian:bookworm-slim`;
- every COPY source from the build context exists in the repository and is
  not excluded by .dockerignore (else `docker build` fails or copies nothing);
- the build stage builds exactly the CMake targets the runtime stage copies
  (each a real target of this build: BUILD_DIR/build.ninja), and the build
  uses scripts/install-deps --build-only;
- the runtime stage runs as the non-root numeric user 65532, and its
  ENTRYPOINT is one of the copied binaries under /usr/local/bin.

usage: check_dockerfile.py REPO BUILD_DIR
"""
import fnmatch
import os
import re
import shlex
import sys

EXPECTED_BINARIES = {"llmgate", "llmgate-control", "llmgatectl"}


def instructions(text):
    """(stage index, KEYWORD, argument string), continuation lines joined."""
    text = re.sub(r"\\\n", " ", text)
    stage = -1
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arg = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        yield stage, keyword, arg.strip()


def ignored(path, patterns):
    """.dockerignore semantics, simplified: last matching pattern wins, `!`
    re-includes, a pattern matching a parent directory excludes the path."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pat in patterns:
        negate = pat.startswith("!")
        p = pat[1:] if negate else pat
        p = p.strip("/")
        regex = fnmatch.translate(p).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
        if any(re.fullmatch(regex, c) or (p.startswith("**/") and fnmatch.fnmatch(c.split("/")[-1], p[3:]))
               for c in candidates):
            result = not negate
    return result


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    repo, build_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(repo, "deploy", "Dockerfile"), encoding="utf-8") as f:
        steps = list(instructions(f.read()))
    with open(os.path.join(repo, ".dockerignore"), encoding="utf-8") as f:
        patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    with open(os.path.join(build_dir, "build.ninja"), encoding="utf-8") as f:
        ninja = f.read()
    problems = []

    froms = [arg for _, k, arg in steps if k == "FROM"]
    if froms != ["debian:12 AS build", "debian:bookworm-slim"]:
        problems.append(f"stages are {froms}, expected debian:12 AS build, then debian:bookworm-slim")

    built = set()
    for stage, keyword, arg in steps:
        if keyword == "RUN" and stage == 0:
            if "install-deps" in arg and "--build-only" not in arg:
                problems.append("build stage: scripts/install-deps without --build-only")
            m = re.search(r"--target ([\w\- ]+?)(?:&&|$)", arg)
            if m:
                built |= set(m.group(1).split())
        if keyword != "COPY":
            continue
        words = shlex.split(arg)
        if any(w.startswith("--from") for w in words):
            continue
        sources = [w for w in words if not w.startswith("--")][:-1]
        for src in sources:
            if src == ".":
                continue
            if not os.path.exists(os.path.join(repo, src)):
                problems.append(f"COPY {src}: not in the repository")
            elif ignored(src, patterns):
                problems.append(f"COPY {src}: excluded by .dockerignore")

    if built != EXPECTED_BINARIES:
        problems.append(f"build stage builds {sorted(built)}, expected {sorted(EXPECTED_BINARIES)}")
    for target in built:
        if not re.search(rf"^build {re.escape(target)}: phony", ninja, re.M):
            problems.append(f"build stage target {target} is not a target of this build")

    runtime = [(k, a) for s, k, a in steps if s == 1]
    copied = set()
    for k, a in runtime:
        if k == "COPY" and "--from=build" in a:
            words = shlex.split(a)
            copied |= {os.path.basename(w) for w in words[1:-1] if not w.startswith("--")}
    if copied != EXPECTED_BINARIES:
        problems.append(f"runtime stage copies {sorted(copied)}, expected {sorted(EXPECTED_BINARIES)}")
    users = [a for k, a in runtime if k == "USER"]
    if not users or users[-1].split(":")[0] != "65532":
        problems.append(f"runtime stage must end as USER 65532 (numeric, non-root), has {users}")
    entry = [a for k, a in runtime if k == "ENTRYPOINT"]
    if not entry or not re.fullmatch(r'\["/usr/local/bin/(llmgate|llmgate-control)"\]', entry[-1]):
        problems.append(f"ENTRYPOINT must be [\"/usr/local/bin/llmgate\"] (exec form), has {entry}")

    # The .dockerignore matcher itself must work, or the COPY checks prove nothing.
    for path, want in (("build/bin/llmgate", True), ("tests/e2e/node_modules/x", True), (".git/HEAD", True),
                       ("scripts/install-deps", False), ("deploy/Dockerfile", False)):
        if ignored(path, patterns) != want:
            problems.append(f".dockerignore matcher: {path} ignored={not want}, expected {want}")

    for p in problems:
        print(f"FAIL: {p}")
    if not problems:
        print(f"ok: deploy/Dockerfile: {len(steps)} instructions, builds and ships {sorted(built)}, "
              f"runs as 65532, COPY sources present and not ignored")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
