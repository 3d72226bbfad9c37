//! The suite's measurements, interleaved: each repetition alternates which runtime goes
//! first, so drift on a shared machine falls on both; then every figure's samples
//! gathered into a [`BenchResult`].

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::anyhow;

use super::containers::{kind_name, Bench, DISK, EXEC_BINARY};
use super::result::{BenchResult, Metric, ProcessShare, RuntimeInfo, Stats, FORMAT, VERSION};
use super::runner::BenchOptions;
use super::suite::{self, MetricId, SUITE};
use super::{machine, workload::parse_samples};
use crate::sandbox::run::{RunSettings, Signals};
use crate::sandbox::runtime::Kind;
use crate::sandbox::trial;

/// Samples per figure and runtime.
#[derive(Default)]
pub(super) struct Samples {
    by: BTreeMap<(MetricId, bool), Vec<f64>>,
    runsc_roles: BTreeMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Samples {
    fn add(&mut self, metric: MetricId, kind: Kind, value: f64) {
        self.by
            .entry((metric, kind == Kind::Runsc))
            .or_default()
            .push(value);
    }

    fn get(&self, metric: MetricId, kind: Kind) -> Vec<f64> {
        self.by
            .get(&(metric, kind == Kind::Runsc))
            .cloned()
            .unwrap_or_default()
    }
}

/// Reports progress, one line at a time.
pub type Progress<'p> = &'p mut dyn FnMut(usize, usize, &str);

/// The two runtimes in the order repetition `rep` runs them.
pub(super) fn order(rep: usize) -> [Kind; 2] {
    if rep.is_multiple_of(2) {
        [Kind::Runc, Kind::Runsc]
    } else {
        [Kind::Runsc, Kind::Runc]
    }
}

/// Counts the runs done and reports each as it starts.
struct Steps<'p, 'q> {
    done: usize,
    total: usize,
    progress: &'q mut Progress<'p>,
}

impl Steps<'_, '_> {
    fn next(&mut self, kind: Kind, what: &str, rep: usize, reps: usize) {
        self.done += 1;
        (self.progress)(
            self.done,
            self.total,
            &format!("{}: {what}, repetition {}/{reps}", kind_name(kind), rep + 1),
        );
    }
}

/// Every measurement, interleaved.
pub(super) async fn measure(
    bench: &mut Bench<'_>,
    options: &BenchOptions,
    reps: usize,
    mut progress: Progress<'_>,
) -> anyhow::Result<Samples> {
    let mut signals = Signals::watch()?;
    if options.platform == "kvm" {
        let bundle = bench.bundle(Kind::Runsc, &["true".to_owned()])?;
        let runsc = bench.runsc.clone();
        let settings = RunSettings {
            timeout: bench.timeout,
            loopback: false,
            hierarchies: bench.hierarchies,
            logs_kept: false,
        };
        trial::probe_kvm(
            &runsc,
            &bundle,
            &mut bench.workspace,
            &mut signals,
            &settings,
        )
        .await?;
    }
    let footprint_reps = if options.quick { 1 } else { 3 };
    let mut steps = Steps {
        done: 0,
        total: reps * 2 * 2 + footprint_reps * 2 * 2,
        progress: &mut progress,
    };
    let mut samples = Samples::default();
    micro(
        bench,
        options.quick,
        reps,
        &mut steps,
        &mut samples,
        &mut signals,
    )
    .await?;
    let startup_args = vec![EXEC_BINARY.to_owned(), "true".to_owned()];
    for rep in 0..reps {
        for kind in order(rep) {
            steps.next(kind, "start-up", rep, reps);
            let outcome = bench.run(kind, &startup_args, &mut signals).await?;
            let ms = (outcome.create + outcome.wall).as_secs_f64() * 1000.0;
            samples.add(MetricId::Startup, kind, ms);
        }
    }
    let window = Duration::from_millis(suite::idle_window_ms(options.quick));
    for rep in 0..footprint_reps {
        for kind in order(rep) {
            steps.next(kind, "idle footprint", rep, footprint_reps);
            let (roles, cpu) = bench.hold(kind, 0, Some(window), &mut signals).await?;
            samples.add(MetricId::PssIdle, kind, total_mib(&roles));
            samples.add(MetricId::IdleCpu, kind, cpu.unwrap_or(0.0));
            if kind == Kind::Runsc {
                for (role, (count, kib)) in roles {
                    let entry = samples.runsc_roles.entry(role).or_default();
                    entry.0.push(count);
                    entry.1.push(kib as f64 / 1024.0);
                }
            }
            steps.next(kind, "footprint holding 256 MiB", rep, footprint_reps);
            let (roles, _) = bench.hold(kind, 256, None, &mut signals).await?;
            samples.add(MetricId::Pss256Mib, kind, total_mib(&roles));
        }
    }
    Ok(samples)
}

/// The micro-benchmarks: one container per runtime and repetition.
async fn micro(
    bench: &mut Bench<'_>,
    quick: bool,
    reps: usize,
    steps: &mut Steps<'_, '_>,
    samples: &mut Samples,
    signals: &mut Signals,
) -> anyhow::Result<()> {
    let mut args = vec![
        bench.helper.clone(),
        "bench-workload".to_owned(),
        "micro".to_owned(),
    ];
    if quick {
        args.push("--quick".to_owned());
    }
    args.extend([
        "--disk".to_owned(),
        DISK.to_owned(),
        "--exec".to_owned(),
        EXEC_BINARY.to_owned(),
    ]);
    for rep in 0..reps {
        for kind in order(rep) {
            steps.next(kind, "micro-benchmarks", rep, reps);
            let outcome = bench.run(kind, &args, signals).await?;
            let parsed = parse_samples(&outcome.stdout.text()).map_err(|e| {
                anyhow!(
                    "the {} micro-benchmarks printed something unexpected: {e}",
                    kind_name(kind)
                )
            })?;
            for s in parsed {
                samples.add(s.metric, kind, s.value);
            }
        }
    }
    Ok(())
}

fn total_mib(roles: &BTreeMap<String, (usize, u64)>) -> f64 {
    roles.values().map(|(_, kib)| *kib).sum::<u64>() as f64 / 1024.0
}

/// The result from the samples.
pub(super) fn assemble(
    options: &BenchOptions,
    reps: usize,
    samples: &Samples,
    runc: RuntimeInfo,
    runsc: RuntimeInfo,
    disk_fs: String,
) -> BenchResult {
    let metrics = SUITE
        .iter()
        .map(|def| {
            Metric::new(
                def,
                &samples.get(def.id, Kind::Runc),
                &samples.get(def.id, Kind::Runsc),
            )
        })
        .collect();
    let runsc_processes = samples
        .runsc_roles
        .iter()
        .map(|(role, (counts, mibs))| ProcessShare {
            role: role.clone(),
            count: counts.iter().copied().max().unwrap_or(0),
            pss_mib: Stats::of(mibs).median,
        })
        .collect();
    BenchResult {
        format: FORMAT.to_owned(),
        version: VERSION,
        date: crate::profile::time::rfc3339(std::time::SystemTime::now()),
        sandprof_version: env!("CARGO_PKG_VERSION").to_owned(),
        quick: options.quick,
        repetitions: reps,
        machine: machine::this_machine(),
        runc,
        runsc,
        disk_fs,
        exec_binary: EXEC_BINARY.to_owned(),
        metrics,
        runsc_processes,
    }
}
