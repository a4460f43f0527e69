"""House build macros: warnings as errors, fully static binaries (TOOLCHAIN.md)."""

# STYLE.md's warning set, as errors.
CLM_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wformat=2",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Werror",
    # snprintf truncation is how bounded buffers are meant to behave here.
    "-Wno-format-truncation",
    "-D_GNU_SOURCE",
]

# Generated protobuf-c code: not ours to keep warning-clean.
GENERATED_COPTS = ["-w"]

def clm_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = CLM_COPTS + copts, **kwargs)

def clm_binary(name, copts = [], features = [], **kwargs):
    native.cc_binary(
        name = name,
        copts = CLM_COPTS + copts,
        features = features + ["fully_static_link"],
        linkstatic = True,
        **kwargs
    )

def clm_test(name, copts = [], features = [], **kwargs):
    native.cc_test(
        name = name,
        copts = CLM_COPTS + copts,
        features = features + ["fully_static_link"],
        linkstatic = True,
        **kwargs
    )

def clm_fuzz_target(name, srcs, deps = [], corpus = None, **kwargs):
    """A libFuzzer target (LLVMFuzzerTestOneInput). Built only with --config=fuzz
    (clang, -fsanitize=fuzzer,address,undefined), hence tagged manual; tools/test
    builds every one and runs each for a short smoke run."""
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        copts = CLM_COPTS,
        tags = ["manual", "fuzz"],
        testonly = True,
        **kwargs
    )
