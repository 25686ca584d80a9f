"""System libraries from Debian, as cc_library targets of one repository.

Each library is described by pkg-config modules (flags come from pkg-config at
fetch time) and, for libraries that ship no .pc file (SOCI), plain library
names. BUILD files depend on `@system//:<name>`, never on `-l` lists.
"""

# name -> (pkg-config modules, extra libraries without a .pc file, Debian package)
_LIBRARIES = {
    "absl": (
        [
            "absl_flags",
            "absl_flags_parse",
            "absl_random_random",
            "absl_status",
            "absl_statusor",
            "absl_str_format",
            "absl_strings",
            "absl_synchronization",
            "absl_time",
        ],
        [],
        "libabsl-dev",
    ),
    "benchmark": (["benchmark"], [], "libbenchmark-dev"),
    "benchmark_main": (["benchmark"], ["benchmark_main"], "libbenchmark-dev"),
    "crypto": (["libcrypto"], [], "libssl-dev"),
    "gmock": (["gmock", "gtest"], [], "libgmock-dev"),
    "gtest": (["gtest"], [], "libgtest-dev"),
    "gtest_main": (["gtest_main", "gtest"], [], "libgtest-dev"),
    "grpc++": (["grpc++", "protobuf"], [], "libgrpc++-dev"),
    "grpc++_reflection": (["grpc++", "protobuf"], ["grpc++_reflection"], "libgrpc++-dev"),
    "grpcpp_channelz": (["grpc++", "protobuf"], ["grpcpp_channelz"], "libgrpc++-dev"),
    "libpq": (["libpq"], [], "libpq-dev"),
    "prometheus": (["prometheus-cpp-core", "prometheus-cpp-pull"], [], "prometheus-cpp-dev"),
    "protobuf": (["protobuf"], [], "libprotobuf-dev"),
    "soci": (
        ["sqlite3", "libpq"],
        ["soci_core", "soci_sqlite3", "soci_postgresql"],
        "libsoci-dev libboost-dev",
    ),
    "sqlite3": (["sqlite3"], [], "libsqlite3-dev"),
    "ssl": (["libssl"], [], "libssl-dev"),
}

_INSTALL_HINT = "run tools/install_deps.sh (or: apt-get install %s)"

def _pkg_config(ctx, package, args):
    result = ctx.execute(["pkg-config"] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed: %s\n%s" % (
            " ".join(args),
            result.stderr.strip(),
            _INSTALL_HINT % package,
        ))
    return [f for f in result.stdout.strip().split(" ") if f]

def _find_library(ctx, lib, package):
    for directory in ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"]:
        for suffix in [".so", ".a"]:
            if ctx.path("%s/lib%s%s" % (directory, lib, suffix)).exists:
                return
    fail("library lib%s not found. %s" % (lib, _INSTALL_HINT % package))

def _system_libs_impl(ctx):
    if not ctx.which("pkg-config"):
        fail("pkg-config not found. " + _INSTALL_HINT % "pkg-config")
    build = ['package(default_visibility = ["//visibility:public"])\n']
    for name, (modules, extra_libs, package) in sorted(_LIBRARIES.items()):
        include_dirs = []
        defines = []
        for flag in _pkg_config(ctx, package, ["--cflags"] + modules):
            if flag.startswith("-I"):
                link = "include/%s/%d" % (name, len(include_dirs))
                ctx.symlink(flag[2:], link)
                include_dirs.append(link)
            elif flag.startswith("-D"):
                defines.append(flag[2:])
        for lib in extra_libs:
            _find_library(ctx, lib, package)
        linkopts = ["-l" + lib for lib in extra_libs]
        linkopts += _pkg_config(ctx, package, ["--libs"] + modules)
        build.append("""
cc_library(
    name = "{name}",
    hdrs = glob([{globs}]),
    includes = {includes},
    defines = {defines},
    linkopts = {linkopts},
)
""".format(
            name = name,
            globs = ", ".join(['"%s/**"' % d for d in include_dirs]),
            includes = repr(include_dirs),
            defines = repr(defines),
            linkopts = repr(linkopts),
        ))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "".join(build))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    doc = "Exposes Debian's libraries (gRPC, Protobuf, SOCI, SQLite, libpq, " +
          "GoogleTest, Benchmark, Abseil, prometheus-cpp) as @<name>//:<library> targets.",
)
