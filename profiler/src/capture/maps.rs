//! The probe's maps as userspace uses them while and after tracing: registering the
//! tasks that exist before the capture, asking which traced tasks still live, and
//! reading the aggregation maps once the programs are detached.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;
use aya::maps::{Array, HashMap, MapData, PerCpuArray, PerCpuHashMap};
use profiler_common::event::{LostCause, LOST_CAUSES};
use profiler_common::key::{CountKey, IntSigKey, StrSigKey, TaskState};
use profiler_common::maps as names;
use profiler_common::spec::MAX_SYSCALL_NR;

use super::loader::Probe;

/// `TASKS`, for reading and writing.
pub fn tasks_map(probe: &mut Probe) -> anyhow::Result<HashMap<&mut MapData, u32, TaskState>> {
    let map = probe
        .ebpf
        .map_mut(names::TASKS)
        .with_context(|| format!("the eBPF object has no map `{}`", names::TASKS))?;
    Ok(HashMap::try_from(map)?)
}

/// The processes (thread group ids) the probe still follows. Tasks that vanished
/// without the probe seeing their exit (they died between being listed and being
/// registered) are dropped from the map.
pub fn live_processes(probe: &mut Probe) -> anyhow::Result<BTreeSet<u32>> {
    let mut tasks = tasks_map(probe)?;
    let entries: Vec<(u32, TaskState)> = tasks.iter().collect::<Result<_, _>>()?;
    let mut live = BTreeSet::new();
    for (tid, state) in entries {
        if Path::new(&format!("/proc/{tid}")).exists() {
            live.insert(state.tgid);
        } else {
            let _ = tasks.remove(&tid);
        }
    }
    Ok(live)
}

/// The aggregation maps' contents.
pub struct Drained {
    /// Syscall counts.
    pub counts: Vec<(CountKey, u64)>,
    /// Integer signatures.
    pub int_sigs: Vec<(IntSigKey, u64)>,
    pub str_sigs: Vec<(Box<StrSigKey>, u64)>,
    /// Lost-event counters by cause.
    pub lost: [u64; LOST_CAUSES as usize],
    /// Calls whose signature was not recorded, by native syscall number.
    pub lost_signatures: BTreeMap<u32, u64>,
}

fn map<'a>(probe: &'a Probe, name: &str) -> anyhow::Result<&'a aya::maps::Map> {
    probe
        .ebpf
        .map(name)
        .with_context(|| format!("the eBPF object has no map `{name}`"))
}

/// Reads the aggregation maps once the programs are detached.
pub fn drain(probe: &Probe) -> anyhow::Result<Drained> {
    let counts: PerCpuHashMap<&MapData, CountKey, u64> =
        PerCpuHashMap::try_from(map(probe, names::COUNTS)?)?;
    let counts = counts
        .iter()
        .map(|entry| entry.map(|(key, per_cpu)| (key, per_cpu.iter().sum())))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to read syscall counts")?;
    let int_sigs: HashMap<&MapData, IntSigKey, u64> =
        HashMap::try_from(map(probe, names::INT_SIGS)?)?;
    let int_sigs = int_sigs
        .iter()
        .collect::<Result<Vec<_>, _>>()
        .context("failed to read argument signatures")?;
    let str_sigs: HashMap<&MapData, StrSigKey, u64> =
        HashMap::try_from(map(probe, names::STR_SIGS)?)?;
    let str_sigs = str_sigs
        .iter()
        .map(|entry| entry.map(|(key, count)| (Box::new(key), count)))
        .collect::<Result<Vec<_>, _>>()
        .context("failed to read path and string signatures")?;
    let lost_map: PerCpuArray<&MapData, u64> = PerCpuArray::try_from(map(probe, names::LOST)?)?;
    let mut lost = [0u64; LOST_CAUSES as usize];
    for (cause, slot) in lost.iter_mut().enumerate() {
        *slot = lost_map
            .get(&(cause as u32), 0)
            .context("failed to read lost-event counters")?
            .iter()
            .sum();
    }
    let mut lost_signatures = BTreeMap::new();
    let signatures_lost =
        lost[LostCause::IntSigsFull as usize] + lost[LostCause::StrSigsFull as usize];
    let per_syscall: Array<&MapData, u64> = Array::try_from(map(probe, names::LOST_SIGNATURES)?)?;
    // A thousand lookups, made only when there is something to find.
    for nr in (0..MAX_SYSCALL_NR).filter(|_| signatures_lost > 0) {
        let calls = per_syscall
            .get(&nr, 0)
            .context("failed to read the lost-signature counters")?;
        if calls > 0 {
            lost_signatures.insert(nr, calls);
        }
    }
    Ok(Drained {
        counts,
        int_sigs,
        str_sigs,
        lost,
        lost_signatures,
    })
}
