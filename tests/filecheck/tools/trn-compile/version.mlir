// RUN: trn-compile --version | filecheck %s
// RUN: trn-compile --help | filecheck %s --check-prefix=HELP

// --version prints the tool, trnc's version and the xDSL it is built on, as trn-opt does;
// --help gives every option a help text (with its default) and ends with examples.
// CHECK: trn-compile (trnc {{[0-9]+\.[0-9]+\.[0-9]+}}) built on xdsl 0.74
// HELP: options:
// HELP: --version{{ +}}print the version
// HELP: --dtype {bf16,fp32}{{ +}}the type matmuls compute in
// HELP: (default: bf16)
// HELP: examples:
// HELP-NEXT: trn-
