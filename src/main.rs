//! The `wengert` command. Training commands arrive with the first learning algorithm (issue 8);
//! until then the binary says so instead of pretending.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("help") | Some("--help") | Some("-h") => {
            println!("wengert — autodiff, neural networks, reinforcement learning and control\n");
            println!("usage: wengert <command>\n");
            println!("commands:\n  help    this message");
            println!("\nNo training algorithm is implemented yet; `train` arrives with issue 6.");
            ExitCode::SUCCESS
        }
        Some(command) => {
            eprintln!("error: unknown command `{command}`; valid commands: help");
            ExitCode::from(2)
        }
    }
}
