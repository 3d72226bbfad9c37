//! runsc logs → facts about the workload, for the shared analysis and renderers.
