#!/usr/bin/env python3
"""The image cannot be built here (no Docker engine), so this checks what
would break it: every shared library `ldd` lists for the shipped binaries must
come (per `dpkg -S`) from a package that the runtime stage of deploy/Dockerfile
installs, or from a package that debian:bookworm-slim already contains.

Also refused: a runtime package that no binary needs (keep the image small;
only ca-certificates is allowed without a library in it), a package the build
machine does not have (a typo), and binaries missing from the build.

A self-check removes each needed package from the parsed list in turn and
asserts that the check then fails, so the test cannot pass vacuously.

usage: check_image_libs.py DOCKERFILE BIN_DIR
"""
import os
import re
import subprocess
import sys

BINARIES = ["llmgate", "llmgate-control", "llmgatectl"]

# Packages already in debian:bookworm-slim (a minbase debootstrap: Essential
# and Priority: required packages plus apt) that the binaries link against:
#   libc6      Essential: yes (libc.so.6, libm.so.6, ld-linux)
#   libgcc-s1  apt Depends: libgcc-s1; libstdc++6 Depends: libgcc-s1
#   libstdc++6 apt Depends: libstdc++6 (>= 11)
#   zlib1g     dpkg Pre-Depends: zlib1g
# (from `apt-cache show dpkg apt libstdc++6` on Debian 12). Nothing else is
# assumed to be there.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}

# Runtime packages that are needed without holding a linked library.
NON_LIBRARY_PACKAGES = {"ca-certificates"}  # TLS to providers (OpenSSL's CA store)


def runtime_packages(dockerfile_text):
    """Packages between `# runtime-packages-begin/end` in the last stage."""
    stages = re.split(r"(?im)^FROM\s", dockerfile_text)
    last = stages[-1]
    m = re.search(r"#\s*runtime-packages-begin\n(.*?)#\s*runtime-packages-end", last, re.S)
    if not m:
        raise SystemExit("Dockerfile: no runtime-packages-begin/end block in the runtime stage")
    block = m.group(1).replace("\\\n", " ")
    m = re.search(r"apt-get install ([^&]*)", block)
    if not m:
        raise SystemExit("Dockerfile: no `apt-get install` in the runtime-packages block")
    return {w for w in m.group(1).split() if not w.startswith("-")}


def linked_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        line = line.strip()
        if "not found" in line:
            raise SystemExit(f"{binary}: ldd cannot resolve {line}")
        if "=>" in line:
            path = line.split("=>")[1].split("(")[0].strip()
        elif line.startswith("/"):
            path = line.split("(")[0].strip()
        else:
            continue  # linux-vdso: provided by the kernel
        if path:
            libs.append(path)
    return libs


def spellings(path):
    """The path as ldd prints it, resolved, and its /usr-merged twins."""
    out = [path, os.path.realpath(path)]
    for p in list(out):
        out.append("/usr" + p if not p.startswith("/usr/") else p[len("/usr"):])
    return list(dict.fromkeys(out))


def owning_packages(paths):
    """{path: package} with one `dpkg -S` call (each call reads the whole
    dpkg database); a path is looked up in all its spellings."""
    candidates = sorted({c for p in paths for c in spellings(p)})
    r = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        pkgs, _, file = line.partition(": ")
        owner[file.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    result = {}
    for p in paths:
        found = [owner[c] for c in spellings(p) if c in owner]
        if not found:
            raise SystemExit(f"dpkg -S: no package owns {p}")
        result[p] = found[0]
    return result


def problems(needed, runtime):
    """needed: {package: [library, ...]}. Returns a list of messages."""
    out = []
    for pkg in sorted(needed):
        if pkg not in runtime and pkg not in BASE_IMAGE_PACKAGES:
            libs = ", ".join(sorted(set(needed[pkg])))
            out.append(f"package {pkg} ({libs}) is not installed by the runtime stage")
    for pkg in sorted(runtime - set(needed) - NON_LIBRARY_PACKAGES):
        out.append(f"runtime stage installs {pkg}, which no binary links against")
    return out


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    dockerfile, bin_dir = sys.argv[1], sys.argv[2]
    with open(dockerfile, encoding="utf-8") as f:
        runtime = runtime_packages(f.read())

    libs = []
    for name in BINARIES:
        binary = os.path.join(bin_dir, name)
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary}: missing (build the llmgate, llmgate-control, llmgatectl targets)")
        libs.extend(linked_libraries(binary))
    owner = owning_packages(sorted(set(libs)))
    needed = {}
    for lib in sorted(set(libs)):
        needed.setdefault(owner[lib], []).append(os.path.basename(lib))

    r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *sorted(runtime)],
                       capture_output=True, text=True)
    installed = {l.split()[0] for l in r.stdout.splitlines() if l.endswith("install ok installed")}
    for pkg in sorted(runtime - installed):
        print(f"FAIL: runtime package {pkg} is not a Debian 12 package installed on this build machine")
        return 1

    found = problems(needed, runtime)
    for msg in found:
        print(f"FAIL: {msg}")
    if found:
        return 1

    # Self-check: dropping any package the binaries need must be caught.
    for pkg in sorted(runtime & set(needed)):
        if not problems(needed, runtime - {pkg}):
            print(f"FAIL: self-check: removing {pkg} from the Dockerfile went unnoticed")
            return 1

    width = max(len(p) for p in needed)
    for pkg in sorted(needed):
        where = "base image" if pkg in BASE_IMAGE_PACKAGES else "Dockerfile"
        print(f"ok  {pkg:<{width}}  {where:<10}  {len(set(needed[pkg]))} lib(s)")
    print(f"ok: {sum(len(set(v)) for v in needed.values())} libraries from {len(needed)} packages; "
          f"runtime stage installs {len(runtime)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
