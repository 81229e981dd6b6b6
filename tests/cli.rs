//! End-to-end tests of the `wengert` binary: run directories, resume, evaluation and GIFs,
//! bad arguments, crashes, the learning report and the control demos.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wengert() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wengert"))
}

/// A fresh temporary directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wengert-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str], runs: &Path) -> Output {
    wengert()
        .args(args)
        .arg("--runs-dir")
        .arg(runs)
        .output()
        .unwrap()
}

/// `wengert train --resume <dir> --eval-episodes 1 --no-progress`, run to its end.
fn resume(dir: &Path) -> Output {
    wengert()
        .args([
            "train",
            "--resume",
            dir.to_str().unwrap(),
            "--eval-episodes",
            "1",
            "--no-progress",
        ])
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `(header, rows)` of a metrics file.
fn metrics(run: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let csv = fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

/// The rows without their wall-time column.
fn without_wall_time(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|(i, _)| *i != 2)
                .map(|(_, v)| v.clone())
                .collect()
        })
        .collect()
}

fn evaluation_line(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| {
            l.split_once("deterministic evaluation over ")
                .map(|(_, e)| e.to_string())
        })
        .unwrap_or_else(|| panic!("no evaluation in {stdout}"))
}

#[test]
fn a_tiny_training_run_writes_a_complete_run_directory_whose_checkpoint_evaluates() {
    let runs = scratch("run");
    let config = runs.join("ppo.toml");
    // Settings from a file; `--set` overrides the file; observation statistics make the
    // checkpoint carry agent state beside the parameters.
    fs::write(
        &config,
        "total_timesteps = 1024\nhidden = [32, 32]\nnormalize_observations = true\nseed = 3\n",
    )
    .unwrap();
    let output = run(
        &[
            "train",
            "ppo",
            "cartpole",
            "--config",
            config.to_str().unwrap(),
            "--set",
            "total_timesteps=2048",
            "--seed",
            "7",
            "--eval-episodes",
            "3",
        ],
        &runs,
    );
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();

    let dir = runs.join("ppo-cartpole-v1-7");
    for file in [
        "config.toml",
        "state.toml",
        "metrics.csv",
        "train.log",
        "learning_curve.svg",
        "policy.safetensors",
        "agent_state.safetensors",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let (header, rows) = metrics(&dir);
    assert_eq!(
        &header[..5],
        &[
            "iteration",
            "env_steps",
            "wall_time",
            "mean_return",
            "episodes"
        ]
    );
    assert!(header.iter().any(|h| h == "approx_kl"));
    assert_eq!(rows.len(), 2048 / 256);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[0].parse::<usize>().unwrap(), i + 1);
        assert_eq!(row[1].parse::<usize>().unwrap(), 256 * (i + 1));
        assert!(row[2].parse::<f64>().unwrap() >= 0.0);
        for value in &row[5..] {
            assert!(value.parse::<f64>().unwrap().is_finite(), "{row:?}");
        }
    }
    // One line an iteration, and one for the checkpoint the last iteration saves.
    let log = fs::read_to_string(dir.join("train.log")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.starts_with("iteration")).count(),
        rows.len()
    );
    assert!(log.contains("checkpoint at step 2048"), "{log}");
    let config = fs::read_to_string(dir.join("config.toml")).unwrap();
    for expected in [
        "algorithm = \"ppo\"",
        "env = \"CartPole-v1\"",
        "seed = 7",
        "total_timesteps = \"2048\"",
        "total_timesteps = 2048\n",
        "hidden = [32, 32]",
        "normalize_observations = true",
    ] {
        assert!(config.contains(expected), "{expected} not in {config}");
    }
    let state = fs::read_to_string(dir.join("state.toml")).unwrap();
    assert!(state.contains("status = \"finished\"") && state.contains("env_steps = 2048"));
    let svg = fs::read_to_string(dir.join("learning_curve.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));

    // The checkpoint loads into the rebuilt agent and evaluates exactly as the trained one did.
    let output = wengert()
        .args(["eval", dir.to_str().unwrap(), "--episodes", "3"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let evaluated = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(evaluation_line(&evaluated), evaluation_line(&stdout));

    // And it is a plain safetensors file with the parameters' names.
    let bytes = fs::read(dir.join("policy.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(
        tensors.names().iter().any(|n| n.starts_with("actor.")),
        "{:?}",
        tensors.names()
    );
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn zero_evaluation_episodes_say_so_instead_of_printing_a_mean_of_nothing() {
    let runs = scratch("no-eval");
    let args = [
        "train",
        "ppo",
        "cartpole",
        "--set",
        "total_timesteps=1024",
        "--eval-episodes",
        "0",
    ];
    let output = run(&args, &runs);
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("no evaluation (--eval-episodes 0)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("deterministic evaluation over"),
        "{stdout}"
    );
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn resume_continues_a_stopped_run_from_the_saved_step_to_the_uninterrupted_result() {
    let runs = scratch("resume");
    let args = [
        "train",
        "ppo",
        "cartpole",
        "--set",
        "total_timesteps=3072",
        "--eval-episodes",
        "1",
    ];
    let mut stopped_args = args.to_vec();
    stopped_args.extend(["--stop-after", "1000"]);
    let output = run(&stopped_args, &runs);
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("stopped at step 1024"));
    let dir = runs.join("ppo-cartpole-v1-1");
    let state = fs::read_to_string(dir.join("state.toml")).unwrap();
    assert!(
        state.contains("status = \"stopped\"") && state.contains("env_steps = 1024"),
        "{state}"
    );
    assert_eq!(metrics(&dir).1.len(), 4);
    // A stopped run's checkpoint evaluates.
    let output = wengert()
        .args(["eval", dir.to_str().unwrap(), "--episodes", "1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));

    // Starting it again is refused; resuming continues it.
    let again = run(&args, &runs);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let output = resume(&dir);
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("from step 1024"));
    // It continued from the saved training state, without replaying the first 1024 steps.
    let log = fs::read_to_string(dir.join("train.log")).unwrap();
    assert!(
        log.contains("resumed from the training state of iteration 4 (step 1024)"),
        "{log}"
    );
    assert_eq!(log.matches("iteration     4 ").count(), 1, "{log}");
    let (_, rows) = metrics(&dir);
    assert_eq!(rows.len(), 12);
    assert_eq!(rows.last().unwrap()[1], "3072");

    // The resumed run is the uninterrupted one: same metrics, same checkpoint, byte for byte.
    let straight = scratch("resume-straight");
    let output = run(&args, &straight);
    assert!(output.status.success(), "{}", text(&output));
    let straight_dir = straight.join("ppo-cartpole-v1-1");
    assert_eq!(
        without_wall_time(&rows),
        without_wall_time(&metrics(&straight_dir).1)
    );
    assert_eq!(
        fs::read(dir.join("policy.safetensors")).unwrap(),
        fs::read(straight_dir.join("policy.safetensors")).unwrap()
    );
    // Wall time goes on from where the stopped run left off.
    let wall: Vec<f64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(wall.windows(2).all(|w| w[0] <= w[1]), "{wall:?}");

    // A finished run has nothing to resume.
    let output = wengert()
        .args(["train", "--resume", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing to resume"));
    fs::remove_dir_all(&runs).unwrap();
    fs::remove_dir_all(&straight).unwrap();
}

/// The columns that do not depend on the clock.
fn deterministic_columns(header: &[String], rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(header)
                .filter(|(_, h)| *h != "wall_time" && !h.ends_with("per_second"))
                .map(|(v, _)| v.clone())
                .collect()
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn a_killed_off_policy_run_resumes_from_its_last_periodic_checkpoint_to_the_uninterrupted_result() {
    let runs = scratch("periodic");
    let args = [
        "train",
        "dqn",
        "cartpole",
        "--set",
        "total_timesteps=12000",
        "--set",
        "learning_starts=500",
        "--set",
        "log_interval=250",
        "--set",
        "hidden=16,16",
        "--set",
        "prioritized=true",
        "--eval-episodes",
        "1",
        "--no-progress",
    ];
    let mut child = wengert()
        .args(args)
        .args(["--checkpoint-every", "1000", "--runs-dir"])
        .arg(&runs)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = runs.join("dqn-cartpole-v1-1");
    let started = std::time::Instant::now();
    // Killed without warning once a periodic checkpoint (not a stop) has been written.
    while !fs::read_to_string(dir.join("training_state.toml"))
        .is_ok_and(|t| t.contains("env_steps = 2000"))
    {
        assert!(started.elapsed().as_secs() < 60, "no checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let state = fs::read_to_string(dir.join("state.toml")).unwrap();
    assert!(!state.contains("finished"), "killed too late: {state}");

    // A damaged tensor file is an error naming it; so is a configuration edited since. The
    // file is the one the saved state names: the kill may have left a newer one that no state
    // points to yet.
    let saved = fs::read_to_string(dir.join("training_state.toml")).unwrap();
    let name = saved
        .lines()
        .find_map(|line| line.strip_prefix("tensors = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no tensors entry in training_state.toml:\n{saved}"));
    let tensors = dir.join(name);
    let original = fs::read(&tensors).unwrap();
    let mut damaged = original.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 1;
    fs::write(&tensors, &damaged).unwrap();
    let output = resume(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("{} is damaged", tensors.display()))
            && stderr.contains("checksum"),
        "{stderr}"
    );
    fs::write(&tensors, &original).unwrap();
    let config = fs::read_to_string(dir.join("config.toml")).unwrap();
    // The resolved configuration is what a resume trains with: edit its γ.
    let edited: Vec<String> = config
        .lines()
        .map(|line| match line.starts_with("gamma = ") {
            true => "gamma = 0.9".to_string(),
            false => line.to_string(),
        })
        .collect();
    assert_ne!(edited.join("\n"), config.trim_end(), "no gamma in {config}");
    fs::write(dir.join("config.toml"), edited.join("\n") + "\n").unwrap();
    let output = resume(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success());
    assert!(
        stderr.contains("training_state.toml")
            && stderr.contains("different configuration")
            && stderr.contains("gamma"),
        "{stderr}"
    );
    fs::write(dir.join("config.toml"), config).unwrap();

    // Resumed, it reaches the uninterrupted run: same metrics, same checkpoint, byte for byte.
    let output = resume(&dir);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("from step 2000"),
        "{}",
        text(&output)
    );
    let straight = scratch("periodic-straight");
    let output = run(&args, &straight);
    assert!(output.status.success(), "{}", text(&output));
    let straight_dir = straight.join("dqn-cartpole-v1-1");
    let (header, rows) = metrics(&dir);
    let (straight_header, straight_rows) = metrics(&straight_dir);
    assert_eq!(header, straight_header);
    assert_eq!(rows.len(), 48);
    assert_eq!(
        deterministic_columns(&header, &rows),
        deterministic_columns(&header, &straight_rows)
    );
    assert_eq!(
        fs::read(dir.join("policy.safetensors")).unwrap(),
        fs::read(straight_dir.join("policy.safetensors")).unwrap()
    );
    fs::remove_dir_all(&runs).unwrap();
    fs::remove_dir_all(&straight).unwrap();
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_saves_a_checkpoint() {
    let runs = scratch("ctrl-c");
    let child = wengert()
        .args([
            "train",
            "ppo",
            "cartpole",
            "--set",
            "total_timesteps=10000000",
            "--runs-dir",
        ])
        .arg(&runs)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let dir = runs.join("ppo-cartpole-v1-1");
    let started = std::time::Instant::now();
    while fs::read_to_string(dir.join("metrics.csv")).map_or(0, |c| c.lines().count()) < 3 {
        assert!(started.elapsed().as_secs() < 60, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let state = fs::read_to_string(dir.join("state.toml")).unwrap();
    assert!(state.contains("status = \"stopped\""), "{state}");
    let (_, rows) = metrics(&dir);
    assert!(
        state.contains(&format!("iteration = {}", rows.len())),
        "{state} vs {} rows",
        rows.len()
    );
    let output = wengert()
        .args(["eval", dir.to_str().unwrap(), "--episodes", "1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    fs::remove_dir_all(&runs).unwrap();
}

#[cfg(unix)]
#[test]
fn a_run_killed_at_any_moment_leaves_a_readable_checkpoint_and_resumes() {
    // A stopped run, then resumes killed (SIGKILL, no chance to clean up) at moments spread over
    // their loading, training, and final writes. After each kill the previous checkpoint loads,
    // the state parses, and a last resume finishes the run.
    let runs = scratch("kill");
    let output = run(
        &[
            "train",
            "ppo",
            "cartpole",
            "--set",
            "total_timesteps=4096",
            "--stop-after",
            "1024",
        ],
        &runs,
    );
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let dir = runs.join("ppo-cartpole-v1-1");
    let eval = |dir: &Path| {
        let output = wengert()
            .args(["eval", dir.to_str().unwrap(), "--episodes", "1"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
    };
    for delay_ms in [5, 40, 80, 120, 160, 200, 260, 330, 400, 500] {
        let mut child = wengert()
            .args([
                "train",
                "--resume",
                dir.to_str().unwrap(),
                "--eval-episodes",
                "50",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let state = fs::read_to_string(dir.join("state.toml")).unwrap();
        if state.contains("finished") {
            break;
        }
        eval(&dir);
        // Leave a half-written checkpoint beside the real one, as a kill mid-write would.
        fs::write(dir.join("policy.safetensors.tmp-1"), b"\x10\x00\x00").unwrap();
    }
    if !fs::read_to_string(dir.join("state.toml"))
        .unwrap()
        .contains("finished")
    {
        let output = resume(&dir);
        assert!(output.status.success(), "{}", text(&output));
    }
    eval(&dir);
    let (_, rows) = metrics(&dir);
    assert_eq!(rows.len(), 16);
    assert_eq!(rows.last().unwrap()[1], "4096");
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn a_run_killed_after_its_last_checkpoint_is_finished_by_resume() {
    // Killed between the last iteration's checkpoint and the final writes: the state still says
    // running at the full budget. The resume trains nothing, and finishes the run.
    let runs = scratch("last-checkpoint");
    let args = ["train", "ppo", "cartpole", "--set", "total_timesteps=2048"];
    let output = run(&[&args[..], &["--eval-episodes", "0"]].concat(), &runs);
    assert!(output.status.success(), "{}", text(&output));
    let dir = runs.join("ppo-cartpole-v1-1");
    let state = fs::read_to_string(dir.join("state.toml")).unwrap();
    assert!(state.contains("status = \"finished\""), "{state}");
    let (_, before) = metrics(&dir);
    fs::write(
        dir.join("state.toml"),
        state.replace("status = \"finished\"", "status = \"running\""),
    )
    .unwrap();
    let output = resume(&dir);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("trained 2048 steps"),
        "{}",
        text(&output)
    );
    let state = fs::read_to_string(dir.join("state.toml")).unwrap();
    assert!(state.contains("status = \"finished\""), "{state}");
    let (_, after) = metrics(&dir);
    assert_eq!(after, before);
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn eval_records_an_episode_as_a_gif() {
    let runs = scratch("gif");
    let output = run(
        &[
            "train",
            "ppo",
            "pendulum",
            "--set",
            "total_timesteps=4096",
            "--eval-episodes",
            "1",
        ],
        &runs,
    );
    assert!(output.status.success(), "{}", text(&output));
    let gif_path = runs.join("pendulum.gif");
    let output = wengert()
        .args(["eval"])
        .arg(runs.join("ppo-pendulum-v1-1"))
        .args(["--episodes", "2", "--gif"])
        .arg(&gif_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("201 frames"));
    let mut decoder = gif::DecodeOptions::new();
    decoder.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = decoder
        .read_info(fs::File::open(&gif_path).unwrap())
        .unwrap();
    assert_eq!((decoder.width(), decoder.height()), (400, 300));
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!(frame.delay, 5, "Pendulum-v1's dt is 0.05 s");
        frames.push(frame.buffer.to_vec());
    }
    // 200 steps of Pendulum-v1 plus the initial state, and the pendulum moves.
    assert_eq!(frames.len(), 201);
    assert_ne!(frames[0], frames[100]);
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn bad_arguments_exit_non_zero_naming_what_is_valid() {
    let runs = scratch("bad");
    let bad_toml = runs.join("bad.toml");
    fs::write(&bad_toml, "learning_rate = \"fast\"\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["train", "dqn9", "cartpole"], "valid algorithms: ppo"),
        (
            vec!["train", "ppo", "cartpool"],
            "valid environments: cartpole (CartPole-v1)",
        ),
        (
            vec!["train", "ppo", "cartpole", "--set", "gama=0.9"],
            "unknown setting `gama`; valid settings: ",
        ),
        (
            vec!["train", "ppo", "cartpole", "--set", "gamma"],
            "--set expects KEY=VALUE",
        ),
        (
            vec!["train", "ppo", "cartpole", "--set", "gamma=high"],
            "`gamma` expects a number in [0, 1], found `high`",
        ),
        (
            vec![
                "train",
                "ppo",
                "cartpole",
                "--config",
                bad_toml.to_str().unwrap(),
            ],
            "`learning_rate` expects a number",
        ),
        (
            vec!["train", "ppo", "cartpole", "--config", "/nonexistent.toml"],
            "cannot read /nonexistent.toml",
        ),
        (
            vec!["train", "--resume", "/nonexistent-run"],
            "is not a run directory",
        ),
        (vec!["eval", "/nonexistent-run"], "is not a run directory"),
        (vec!["control", "lqg"], "valid demos: lqr, ilqr-pendulum"),
        (
            vec!["report", "learning", "--env", "cartpool"],
            "valid environments",
        ),
        (
            vec!["report", "policy-from-control", "--methods", "dagr"],
            "valid methods: expert, plato, dagger, bc",
        ),
        (vec!["train"], "required"),
    ];
    for (args, message) in cases {
        let output = wengert().args(&args).arg("--runs-dir").arg(&runs).output();
        // Not every subcommand takes --runs-dir: try without it when clap rejects it.
        let mut output = output.unwrap();
        if String::from_utf8_lossy(&output.stderr).contains("unexpected argument '--runs-dir'") {
            output = wengert().args(&args).output().unwrap();
        }
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // Nothing was left behind by the refused runs.
    let left: Vec<_> = fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("bad.toml")]);
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn list_names_every_algorithm_environment_and_demo() {
    let output = wengert().arg("list").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for algorithm in wengert::rl::algorithms::ALGORITHMS {
        assert!(stdout.contains(algorithm.about), "{stdout}");
    }
    for name in [
        "CartPole-v1",
        "Pendulum-v1",
        "Acrobot-v1",
        "MountainCarContinuous-v0",
        "PointNavigation-v0",
        "lqr",
        "mpc-pendulum",
        "ddp-acrobot",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }
}

#[test]
fn the_learning_report_writes_a_table_and_a_plot_per_environment() {
    let out = scratch("report");
    let output = wengert()
        .args([
            "report",
            "learning",
            "--env",
            "cartpole",
            "--seeds",
            "2",
            "--threads",
            "2",
            "--max-steps",
            "1024",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let table = fs::read_to_string(out.join("learning.md")).unwrap();
    assert!(table.contains("budgets capped at 1024"));
    let ppo = table
        .lines()
        .find(|l| l.starts_with("| PPO | CartPole-v1 | 1024 | ≥ 475 on 2/2 |"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = ppo.split('|').map(str::trim).collect();
    let (median, min, max): (f64, f64, f64) = (
        cells[5].parse().unwrap(),
        cells[6].parse().unwrap(),
        cells[7].parse().unwrap(),
    );
    assert!(min <= median && median <= max && min >= 8.0, "{ppo}");
    assert!(cells[8].ends_with("/2"), "{ppo}");
    assert!(cells[10].parse::<f64>().unwrap() > 0.0, "{ppo}");
    assert_eq!(cells[11].split(", ").count(), 2, "{ppo}");
    // Every other row of the environment either ran or says it is not implemented.
    assert_eq!(
        table
            .lines()
            .filter(|l| l.contains("| CartPole-v1 |"))
            .count(),
        8
    );
    let svg = fs::read_to_string(out.join("learning-cartpole-v1.svg")).unwrap();
    assert!(svg.contains("<polygon") && svg.contains("<polyline"));
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn control_demos_print_costs_and_plot_states_and_controls() {
    let out = scratch("control");
    let output = wengert()
        .args(["control", "ilqr-pendulum", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("after") && stdout.contains("iterations"),
        "{stdout}"
    );
    let costs: Vec<f64> = stdout
        .lines()
        // The iteration lines: `  12  cost …`.
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| {
            l.split("cost")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(costs.len() > 3 && costs.last() < costs.first(), "{costs:?}");
    for file in ["states.svg", "controls.svg"] {
        let svg = fs::read_to_string(out.join(file)).unwrap();
        assert!(svg.contains("<polyline"), "{file}");
    }
    let output = wengert()
        .args(["control", "lqr", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("K∞"));
    fs::remove_dir_all(&out).unwrap();
}

/// `wengert train … | head -1`: the reader takes the first line and closes the pipe while
/// training goes on; the next print must end the program quietly (killed by SIGPIPE, as `ls`
/// and `cat` are), not panic with "failed printing to stdout" and exit 101.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_closed_stdout_ends_the_program_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let runs = scratch("closed-stdout");
    let mut child = wengert()
        .args([
            "train",
            "ppo",
            "cartpole",
            "--set",
            "total_timesteps=512",
            "--no-progress",
            "--runs-dir",
        ])
        .arg(&runs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap(); // the reader is dropped here: the pipe is closed
    assert!(first.starts_with("training ppo on CartPole-v1"), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{}", text(&output));
    assert_ne!(output.status.code(), Some(101), "{}", text(&output));
    assert!(
        output.status.success() || output.status.signal() == Some(13),
        "{}",
        text(&output)
    );
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn report_learning_takes_a_count_or_a_list_of_seeds_and_names_the_flag_when_they_are_bad() {
    let help = wengert()
        .args(["report", "learning", "--help"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{}", text(&help));
    assert!(
        stdout.contains("--seeds <COUNT|LIST>") && stdout.contains("--seed-start <SEED>"),
        "{stdout}"
    );
    // Bad values are refused before anything trains.
    let out = scratch("report-seeds");
    for (args, problem) in [
        (&["--seeds", "101,x"][..], "`x` in `101,x` is not a seed"),
        (&["--seeds", "0"][..], "--seeds must be at least 1"),
        (&["--seeds", ""][..], "--seeds"),
        (
            &["--seeds", "101,102", "--seed-start", "5"][..],
            "--seed-start goes with a count",
        ),
        (&["--seed-start", "x"][..], "--seed-start"),
    ] {
        let output = wengert()
            .args(["report", "learning", "--out"])
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(stderr.contains(problem), "{args:?}: {}", text(&output));
    }
    assert!(!out.join("learning.md").exists());
    let _ = fs::remove_dir_all(&out);
}

#[test]
fn frozenlake_values_draws_one_cell_per_state_with_gymnasiums_values() {
    let out = scratch("frozenlake-values");
    let output = wengert()
        .args(["report", "frozenlake-values", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let svg = fs::read_to_string(out.join("frozenlake-4x4-values.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_eq!(svg.matches("<svg").count(), 1);
    // The white background and one square per state.
    assert_eq!(svg.matches("<rect").count(), 1 + 16, "{svg}");
    assert_eq!(svg.matches("H (hole)").count(), 4);
    assert_eq!(svg.matches("G (goal)").count(), 1);
    // Every printed value is Gymnasium's V* (γ = 0.99, from its own env.P) to three decimals.
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("reference/frozenlake_values.json")).unwrap();
    let case = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["gamma"].as_f64() == Some(0.99))
        .unwrap();
    for (s, v) in case["V"].as_array().unwrap().iter().enumerate() {
        let printed = format!("\n{:.3}\n", v.as_f64().unwrap());
        assert!(svg.contains(&printed), "V({s}) {printed} missing:\n{svg}");
    }
    assert!(out.join("frozenlake-8x8-values.svg").is_file());
    fs::remove_dir_all(&out).unwrap();
}
