"""reliability_test: one fault test, as a target per database backend."""

def reliability_test(name, srcs, backends = ["sqlite", "postgres"], size = "medium", deps = [], data = [], env = {}):
    """Builds `srcs` once and runs them as `<name>_<backend>_test` per backend.

    Each target starts the real //service:task_server binary (named to the test
    by TASK_SERVER_BINARY) and selects its backend with
    TASKS_TEST_STORE_BACKENDS. PostgreSQL targets start a throwaway server
    (and PgBouncer) as the `postgres` user, which the linux-sandbox cannot
    switch to: they run unsandboxed.

    Args:
      name: prefix of the test targets.
      srcs: the test sources (GoogleTest, with INSTANTIATE_RELIABILITY_TEST_SUITE).
      backends: "sqlite", "postgres" and/or "pgbouncer" (PostgreSQL through
        PgBouncer in transaction pooling mode).
      size: Bazel test size, for the timeout.
      deps: libraries the sources need besides the fixture.
      data: programs or files the test runs besides the server.
      env: environment variables the test reads (e.g. those programs' paths).
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = [
            ":reliability_test_base",
            "@system//:gtest",
        ] + deps,
        alwayslink = True,
    )
    for backend in backends:
        native.cc_test(
            name = "%s_%s_test" % (name, backend),
            size = size,
            data = ["//service:task_server"] + data,
            env = dict({
                "TASK_SERVER_BINARY": "$(rootpath //service:task_server)",
                "TASKS_TEST_STORE_BACKENDS": backend,
            }, **env),
            tags = ["reliability"] + (["no-sandbox"] if backend != "sqlite" else []),
            deps = [
                ":" + name + "_lib",
                "@system//:gtest_main",
            ],
        )
