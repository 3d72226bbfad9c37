#![no_std]
// This file exists to enable the library target, which `profiler` lists as a
// build-dependency so cargo rebuilds it when the probe changes.
