// Package bitexact holds no code, only the tests behind a promise: a training run on the CPU
// device computes the same bits on every processor and under WebAssembly, so a share link or a
// kept base reproduces anywhere. Its tests find the packages a training run executes (those the
// trainer worker and the CLI link from pretune/core/...) and check all of them: no package math
// function whose result differs between platforms (TestNoMath), and no multiply-add the compiler
// fuses into one FMA instruction on processors that have it (TestNoFusedMultiplyAdd).
package bitexact
