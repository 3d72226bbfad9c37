//! The probe's maps as userspace uses them while and after tracing: registering the
//! tasks that exist before the capture, turning the probe's per-CPU caches on, asking
//! which traced tasks still live, and reading the aggregation maps (with what is still
//! pending in the count cache) once the programs are detached.

use std::collections::{BTreeMap, BTreeSet, HashMap as StdHashMap};
use std::path::Path;

use anyhow::Context as _;
use aya::maps::{Array, HashMap, MapData, PerCpuArray, PerCpuHashMap};
use profiler_common::event::{LostCause, LOST_CAUSES};
use profiler_common::key::{CountKey, CountSlot, IntSigKey, StrSigKey, TaskState};
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
    let mut removed = false;
    for (tid, state) in entries {
        if Path::new(&format!("/proc/{tid}")).exists() {
            live.insert(state.tgid);
        } else {
            removed |= tasks.remove(&tid).is_ok();
        }
    }
    if removed {
        // A probe CPU may still hold one of them as traced (see `cache.rs` of the probe).
        let mut control = control_map(probe)?;
        let generation = control.get(&names::CONTROL_USER_GENERATION, 0)?;
        control
            .set(
                names::CONTROL_USER_GENERATION,
                generation.wrapping_add(1),
                0,
            )
            .context("failed to mark the probe's task cache stale")?;
    }
    Ok(live)
}

/// `CONTROL`, the words userspace and the probe share.
fn control_map(probe: &mut Probe) -> anyhow::Result<Array<&mut MapData, u64>> {
    let map = probe
        .ebpf
        .map_mut(names::CONTROL)
        .with_context(|| format!("the eBPF object has no map `{}`", names::CONTROL))?;
    Ok(Array::try_from(map)?)
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

/// Lets the probe cache task states: every task that existed before the capture is
/// registered, so a cached "not traced" can no longer be wrong.
pub fn enable_caches(probe: &mut Probe) -> anyhow::Result<()> {
    control_map(probe)?
        .set(names::CONTROL_CACHE_ENABLED, 1, 0)
        .context("failed to enable the probe's caches")?;
    Ok(())
}

/// Reads the aggregation maps once the programs are detached: `COUNTS`, plus the calls
/// still pending in the per-CPU count cache.
pub fn drain(probe: &Probe) -> anyhow::Result<Drained> {
    let counts: PerCpuHashMap<&MapData, CountKey, u64> =
        PerCpuHashMap::try_from(map(probe, names::COUNTS)?)?;
    let mut totals: StdHashMap<CountKey, u64> = counts
        .iter()
        .map(|entry| entry.map(|(key, per_cpu)| (key, per_cpu.iter().sum())))
        .collect::<Result<_, _>>()
        .context("failed to read syscall counts")?;
    let cache: PerCpuArray<&MapData, CountSlot> =
        PerCpuArray::try_from(map(probe, names::COUNT_CACHE)?)?;
    for index in 0..names::COUNT_CACHE_SLOTS {
        for slot in cache
            .get(&index, 0)
            .context("failed to read the count cache")?
            .iter()
            .filter(|slot| slot.count > 0)
        {
            *totals.entry(slot.key).or_default() += slot.count;
        }
    }
    let counts: Vec<(CountKey, u64)> = totals.into_iter().collect();
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
