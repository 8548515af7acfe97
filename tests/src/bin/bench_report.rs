//! Reads the JSON lines the load generator appended to a results file,
//! prints our server and the Node peer side by side with the ratios (one
//! node each, then two nodes each and the drain, then the broadcast
//! sweep's highest rate within the limits, then ours on two store-servers
//! against one), and draws broadcast latency against load for both as a
//! PNG. Runs with refused, failed or lost sends are listed at the end; a
//! run refused by a limit (`rate_limited`) measured that limit, not the
//! server, and makes the report fail.
//!
//! `bench_report .data/bench/results.jsonl --plot docs/bench/broadcast-latency.png`

use anyhow::Context;
use chat_tests::bench_report::{cluster, flags, plot, runs_of, stores, sweep, table};
use clap::Parser;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Side-by-side report of load generator results")]
struct Args {
    /// The results file (JSON lines).
    results: PathBuf,
    /// Where to draw broadcast latency against delivered rate.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// A TrueType font for the plot's text.
    #[arg(
        long,
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    font: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.results)
        .with_context(|| format!("reading {}", args.results.display()))?;
    let runs: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    print!("{}", table::side_by_side(&runs));
    print!("{}", cluster::tables(&runs));
    print!("{}", sweep::summary(&runs));
    print!("{}", stores::table(&runs));
    // The plot is of the one-node broadcast runs (no series) alone.
    let broadcasts = ["rust", "node"]
        .iter()
        .any(|server| !runs_of(&runs, "broadcast", server).is_empty());
    match args.plot {
        Some(path) if broadcasts => {
            plot::broadcast_latency(&runs, &path, &args.font)?;
            println!("plot: {}", path.display());
        }
        Some(_) => println!("no broadcast runs: the plot is left as it was"),
        None => {}
    }
    let flags = flags::check(&runs);
    print!("{}", flags::section(&flags));
    if flags.limited {
        anyhow::bail!("a run was refused by a limit: it measured the limit, not the server");
    }
    Ok(())
}
