// RUN: trn-run --version | filecheck %s
// RUN: trn-run --help | filecheck %s --check-prefix=HELP

// --version prints the tool, trnc's version and the xDSL it is built on, as trn-opt does;
// --help gives every option a help text (with its default) and ends with examples.
// CHECK: trn-run (trnc {{[0-9]+\.[0-9]+\.[0-9]+}}) built on xdsl 0.74
// HELP: options:
// HELP: --version{{ +}}print the version
// HELP: --seed SEED{{ +}}seed of the random input data (default: 0)
// HELP: examples:
// HELP-NEXT: trn-
