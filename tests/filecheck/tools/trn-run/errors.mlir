// A program that would misbehave on hardware is a located error and exit code 1.
// RUN: not trn-run %s --split 2>&1 | filecheck %s --check-prefix=USAGE
// RUN: not trn-run %S/Inputs/race.mlir --random-inputs 2>&1 | filecheck %S/Inputs/race.mlir
// RUN: not trn-run %S/Inputs/deadlock.mlir --random-inputs 2>&1 | filecheck %S/Inputs/deadlock.mlir
// RUN: not trn-run %s --input nope=%t.missing.npy 2>&1 | filecheck %s --check-prefix=INPUT
// RUN: not trn-run %s.does-not-exist 2>&1 | filecheck %s --check-prefix=MISSING

trn_isa.program @empty {
  trn_isa.hbm_tensor @x : tensor<4xf32> at 0 role input
}

// USAGE: trn-run: error: unrecognized arguments: --split
// INPUT: trn-run: error: cannot read '{{.*}}missing.npy'
// MISSING: trn-run: error: cannot read program
