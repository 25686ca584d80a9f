"""C++ code generation for .proto files with the system protoc and grpc_cpp_plugin.

Bazel's proto_library needs @com_google_protobuf, a download; this macro runs
Debian's compilers in a genrule instead. Proto import paths are relative to the
package that calls the macro, so `proto/tasks/v1/tasks.proto` is imported (and
included, as `tasks/v1/tasks.pb.h`) without the `proto/` prefix.
"""

def cc_proto_library_system(name, srcs, deps = [], grpc = False, visibility = None):
    """Generates and compiles C++ messages (and gRPC stubs when grpc = True).

    Args:
      name: the cc_library target.
      srcs: .proto files of this package.
      deps: other cc_proto_library_system targets whose .proto files these import.
      grpc: also generate gRPC service code.
      visibility: of the cc_library.
    """
    stems = [src[:-len(".proto")] for src in srcs]
    hdrs = [s + ".pb.h" for s in stems]
    cc_srcs = [s + ".pb.cc" for s in stems]
    plugin_flags = ""
    if grpc:
        hdrs += [s + ".grpc.pb.h" for s in stems]
        cc_srcs += [s + ".grpc.pb.cc" for s in stems]
        plugin_flags = ("--grpc_out=$(GENDIR)/$$ROOT " +
                        "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) ")

    native.genrule(
        name = name + "_codegen",
        srcs = srcs + [d + "_protos" for d in deps],
        outs = hdrs + cc_srcs,
        cmd = ("ROOT=" + native.package_name() + "; " +
               "protoc -I$$ROOT -I/usr/include --cpp_out=$(GENDIR)/$$ROOT " +
               plugin_flags +
               " ".join(["$(location %s)" % s for s in srcs])),
        message = "protoc " + name,
    )
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [d + "_protos" for d in deps],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        includes = ["."],
        deps = deps + ["@system//:grpc++" if grpc else "@system//:protobuf"],
        visibility = visibility,
    )
