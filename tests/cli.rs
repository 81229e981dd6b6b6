//! End-to-end tests of the `wengert` binary.

use std::process::Command;

fn wengert() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wengert"))
}

#[test]
fn a_tiny_training_run_writes_a_complete_run_directory() {
    let runs = std::env::temp_dir().join(format!("wengert-cli-{}", std::process::id()));
    let output = wengert()
        .args([
            "train",
            "ppo",
            "cartpole",
            "--seed",
            "7",
            "--set",
            "total_timesteps=2048",
            "--eval-episodes",
            "2",
            "--runs-dir",
        ])
        .arg(&runs)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("deterministic evaluation over 2 episodes"));

    let run = runs.join("ppo-cartpole-v1-7");
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], &["iteration", "env_steps", "wall_time"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2048 / 256);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert_eq!(rows.last().unwrap()[1], "2048");
    assert!(
        std::fs::read_to_string(run.join("config.txt"))
            .unwrap()
            .contains("total_timesteps: 2048")
    );

    // The checkpoint loads into a freshly built model of the same shape.
    let mut store = wengert::nn::ParamStore::<f32>::new();
    let space = wengert::rl::env::Space::Discrete { n: 2 };
    let _ = wengert::rl::policy::ActorCritic::new(
        &mut store,
        4,
        &space,
        &wengert::rl::policy::NetworkConfig::default(),
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0),
    );
    wengert::nn::checkpoint::load(run.join("policy.safetensors"), &store).unwrap();
    std::fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn bad_arguments_exit_non_zero_naming_what_is_valid() {
    let cases: [(&[&str], &str); 4] = [
        (&["train", "dqn9", "cartpole"], "valid algorithms: ppo"),
        (
            &["train", "ppo", "cartpool"],
            "valid environments: cartpole (CartPole-v1)",
        ),
        (
            &["train", "ppo", "cartpole", "--set", "gama=0.9"],
            "valid settings: total_timesteps",
        ),
        (
            &["train", "ppo", "cartpole", "--set", "gamma"],
            "--set expects KEY=VALUE",
        ),
    ];
    for (args, message) in cases {
        let output = wengert().args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn list_names_every_algorithm_and_environment() {
    let output = wengert().arg("list").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for name in ["ppo", "CartPole-v1", "Pendulum-v1", "Acrobot-v1"] {
        assert!(stdout.contains(name), "{stdout}");
    }
}
