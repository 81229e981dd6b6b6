//! Pictures of the classic-control tasks drawn from their physical state (the same geometry as
//! Gymnasium's renderers), and an episode of an agent recorded as an animated GIF.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use wengert::rl::env::point_navigation::{BOX_HALF_WIDTH, GOAL, GOAL_RADIUS};
use wengert::rl::env::{
    Acrobot, CartPole, Env, MaskVelocity, MountainCar, MountainCarContinuous, NO_VELOCITY,
    Pendulum, PhysicalState, PointNavigation, REGISTERED, SkillConditioned, TimeLimit,
};
use wengert::rl::policy::Actions;
use wengert::rl::train::Agent;

pub const WIDTH: u32 = 400;
pub const HEIGHT: u32 = 300;

/// An episode as RGB frames.
pub struct Recording {
    pub frames: Vec<Vec<u8>>,
    /// Time between frames, in hundredths of a second (the environment's time step).
    pub delay: u16,
    pub total_return: f64,
}

type World<'a> = DrawingArea<BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws into a `WIDTH × HEIGHT` RGB buffer, in world coordinates `x_range × y_range` (y up).
fn frame(
    x_range: (f64, f64),
    y_range: (f64, f64),
    draw: impl FnOnce(&Canvas) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root: DrawingArea<BitMapBackend, Shift> =
            BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        // The bitmap's rows grow downwards: the canvas stores −y so that up is up.
        let world = root.apply_coord_spec(Cartesian2d::<RangedCoordf64, RangedCoordf64>::new(
            x_range.0..x_range.1,
            -y_range.1..-y_range.0,
            (0..WIDTH as i32, 0..HEIGHT as i32),
        ));
        draw(&Canvas { world })?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buffer)
}

/// A frame in world coordinates with y up.
struct Canvas<'a> {
    world: World<'a>,
}

fn flip((x, y): (f64, f64)) -> (f64, f64) {
    (x, -y)
}

impl Canvas<'_> {
    fn path(&self, points: Vec<(f64, f64)>, style: ShapeStyle) -> Result<(), String> {
        let points = points.into_iter().map(flip).collect::<Vec<_>>();
        self.world
            .draw(&PathElement::new(points, style))
            .map_err(|e| e.to_string())
    }

    fn line(&self, from: (f64, f64), to: (f64, f64), style: ShapeStyle) -> Result<(), String> {
        self.path(vec![from, to], style)
    }

    fn polygon(&self, points: Vec<(f64, f64)>, color: RGBColor) -> Result<(), String> {
        let points = points.into_iter().map(flip).collect::<Vec<_>>();
        self.world
            .draw(&Polygon::new(points, color.filled()))
            .map_err(|e| e.to_string())
    }

    fn disc(&self, at: (f64, f64), radius: i32, color: RGBColor) -> Result<(), String> {
        self.world
            .draw(&Circle::new(flip(at), radius, color.filled()))
            .map_err(|e| e.to_string())
    }
}

const POLE: RGBColor = RGBColor(202, 152, 101);
const AXLE: RGBColor = RGBColor(129, 132, 203);
const LINK: RGBColor = RGBColor(0, 204, 204);

/// CartPole-v1 from `[x, ẋ, θ, θ̇]`: a 4.8 m wide track, a 0.5 m × 0.3 m cart and a 1 m pole
/// (twice the half-length 0.5), `θ = 0` upright.
pub fn draw_cartpole(state: &[f64; 4]) -> Result<Vec<u8>, String> {
    let [x, _, theta, _] = *state;
    frame((-2.4, 2.4), (-1.0, 2.6), |canvas| {
        canvas.line((-2.4, 0.0), (2.4, 0.0), BLACK.stroke_width(1))?;
        canvas.polygon(
            vec![
                (x - 0.25, -0.15),
                (x + 0.25, -0.15),
                (x + 0.25, 0.15),
                (x - 0.25, 0.15),
            ],
            BLACK,
        )?;
        let axle = (x, 0.075);
        let tip = (x + theta.sin(), 0.075 + theta.cos());
        canvas.line(axle, tip, POLE.stroke_width(8))?;
        canvas.disc(axle, 4, AXLE)
    })
}

/// Pendulum-v1 from `[θ, θ̇]`: a 1 m rod, `θ = 0` upright.
pub fn draw_pendulum(state: &[f64; 2]) -> Result<Vec<u8>, String> {
    let theta = state[0];
    frame((-2.2, 2.2), (-1.65, 1.65), |canvas| {
        let tip = (-theta.sin(), theta.cos());
        canvas.line((0.0, 0.0), tip, RGBColor(204, 77, 77).stroke_width(12))?;
        canvas.disc((0.0, 0.0), 5, BLACK)
    })
}

/// Acrobot-v1 from `[θ₁, θ₂, θ̇₁, θ̇₂]`: two 1 m links hanging from the origin (`θ₁ = 0` down),
/// and the line at height 1 the tip must cross.
pub fn draw_acrobot(state: &[f64; 4]) -> Result<Vec<u8>, String> {
    let [theta1, theta2, _, _] = *state;
    frame((-2.93, 2.93), (-2.2, 2.2), |canvas| {
        canvas.line((-2.2, 1.0), (2.2, 1.0), BLACK.stroke_width(1))?;
        let elbow = (theta1.sin(), -theta1.cos());
        let tip = (
            elbow.0 + (theta1 + theta2).sin(),
            elbow.1 - (theta1 + theta2).cos(),
        );
        canvas.line((0.0, 0.0), elbow, LINK.stroke_width(10))?;
        canvas.line(elbow, tip, LINK.stroke_width(10))?;
        canvas.disc((0.0, 0.0), 5, RGBColor(204, 204, 0))?;
        canvas.disc(elbow, 5, RGBColor(204, 204, 0))
    })
}

/// MountainCar from `[position, velocity]`: the hill `h(x) = 0.45 sin 3x + 0.55` on
/// `[−1.2, 0.6]` and the flag at `goal` (0.5, or 0.45 for the continuous task).
pub fn draw_mountain_car(state: &[f64; 2], goal: f64) -> Result<Vec<u8>, String> {
    let height = |x: f64| 0.45 * (3.0 * x).sin() + 0.55;
    let position = state[0];
    frame((-1.2, 0.6), (0.0, 1.35), |canvas| {
        let hill: Vec<(f64, f64)> = (0..=100)
            .map(|i| {
                let x = -1.2 + 1.8 * i as f64 / 100.0;
                (x, height(x))
            })
            .collect();
        canvas.path(hill, BLACK.stroke_width(2))?;
        let base = height(goal);
        canvas.line((goal, base), (goal, base + 0.15), BLACK.stroke_width(2))?;
        canvas.polygon(
            vec![
                (goal, base + 0.15),
                (goal, base + 0.11),
                (goal + 0.08, base + 0.13),
            ],
            RGBColor(204, 204, 0),
        )?;
        canvas.disc((position, height(position) + 0.04), 9, BLACK)
    })
}

/// PointNavigation-v0 from `[x, y, ẋ, ẏ]`: the box `[−1, 1]²`, the goal disc and the point.
pub fn draw_point_navigation(state: &[f64; 4]) -> Result<Vec<u8>, String> {
    let w = BOX_HALF_WIDTH;
    frame((-1.34 * w, 1.34 * w), (-1.005 * w, 1.005 * w), |canvas| {
        canvas.path(
            vec![(-w, -w), (w, -w), (w, w), (-w, w), (-w, -w)],
            BLACK.stroke_width(2),
        )?;
        let radius = (GOAL_RADIUS / (2.0 * w) * f64::from(HEIGHT)).round() as i32;
        canvas.disc((GOAL[0], GOAL[1]), radius.max(2), RGBColor(204, 204, 0))?;
        canvas.disc((state[0], state[1]), 6, BLACK)
    })
}

/// Runs one deterministic episode of `agent` from `reset(seed)` on `env`, wrapped in the skills
/// `+skills=spec` when given, drawing every state.
fn record_in<E: Env + PhysicalState>(
    env: E,
    skills: Option<&str>,
    id: &str,
    agent: &dyn Agent,
    seed: u64,
    delay: u16,
    draw: impl Fn(&E::State) -> Result<Vec<u8>, String>,
) -> Result<Recording, String> {
    match skills {
        None => record(env, id, agent, seed, delay, draw),
        Some(spec) => {
            let skilled = SkillConditioned::from_wrapper(env, spec).map_err(|e| e.to_string())?;
            record(skilled, id, agent, seed, delay, draw)
        }
    }
}

/// Runs one deterministic episode of `agent` from `reset(seed)` within `id`'s time limit,
/// drawing every state.
fn record<E: Env + PhysicalState>(
    env: E,
    id: &str,
    agent: &dyn Agent,
    seed: u64,
    delay: u16,
    draw: impl Fn(&E::State) -> Result<Vec<u8>, String>,
) -> Result<Recording, String> {
    let limit = REGISTERED
        .iter()
        .find(|(registered, _)| *registered == id)
        .map_or(usize::MAX, |(_, limit)| *limit);
    let mut env = TimeLimit::new(env, limit);
    let mut observation = env.reset(Some(seed));
    let mut frames = vec![draw(&env.inner().state())?];
    let mut total_return = 0.0;
    // A recurrent agent carries its memory through the episode.
    let mut memory = agent.start_memory(1);
    loop {
        let row = Array2::from_shape_vec((1, observation.len()), observation).expect("one row");
        let actions = match memory.as_mut() {
            Some(memory) => agent.act_remembering(&row, memory),
            None => agent.act(&row),
        };
        let step = match actions {
            Actions::Discrete(a) => env.step(a[0].into()),
            Actions::Continuous(a) => env.step(a.row(0).as_slice().expect("contiguous").into()),
        }
        .map_err(|e| e.to_string())?;
        frames.push(draw(&env.inner().state())?);
        total_return += step.reward;
        if step.done() {
            break;
        }
        observation = step.observation;
    }
    Ok(Recording {
        frames,
        delay,
        total_return,
    })
}

/// `env` with the velocity mask of the agent's `…NoVel-v…` environment, so that the agent sees
/// what it was trained on while the picture shows the whole state.
fn masked<E: Env>(env: E, id: &str) -> Result<MaskVelocity<E>, String> {
    let (id, _, kept) = NO_VELOCITY
        .iter()
        .find(|(masked, ..)| *masked == id)
        .ok_or_else(|| format!("{id} is not a velocity-masked environment"))?;
    MaskVelocity::new(env, id, kept).map_err(|e| e.to_string())
}

/// Records one deterministic episode of `agent` on its environment (a skill-conditioned one,
/// `ID+skills=K`, in its skills wrapper).
pub fn record_episode(agent: &dyn Agent, seed: u64) -> Result<Recording, String> {
    let (id, skills) = match agent.env_id().split_once("+skills=") {
        Some((id, spec)) => (id, Some(spec)),
        None => (agent.env_id(), None),
    };
    match id {
        "CartPole-v1" => record_in(CartPole::new(), skills, id, agent, seed, 2, draw_cartpole),
        "Pendulum-v1" => record_in(Pendulum::new(), skills, id, agent, seed, 5, draw_pendulum),
        "Acrobot-v1" => record_in(Acrobot::new(), skills, id, agent, seed, 20, draw_acrobot),
        "MountainCar-v0" => record_in(MountainCar::new(), skills, id, agent, seed, 3, |s| {
            draw_mountain_car(s, 0.5)
        }),
        "MountainCarContinuous-v0" => record_in(
            MountainCarContinuous::new(),
            skills,
            id,
            agent,
            seed,
            3,
            |s| draw_mountain_car(s, 0.45),
        ),
        "CartPoleNoVel-v1" => record_in(
            masked(CartPole::new(), id)?,
            skills,
            id,
            agent,
            seed,
            2,
            draw_cartpole,
        ),
        "PendulumNoVel-v1" => record_in(
            masked(Pendulum::new(), id)?,
            skills,
            id,
            agent,
            seed,
            5,
            draw_pendulum,
        ),
        "PointNavigation-v0" => record_in(
            PointNavigation::new(),
            skills,
            id,
            agent,
            seed,
            10,
            draw_point_navigation,
        ),
        _ => Err(format!(
            "no picture of {}; GIFs are drawn for CartPole-v1, Pendulum-v1, Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0, PointNavigation-v0 (and their +skills=K), CartPoleNoVel-v1 and PendulumNoVel-v1",
            agent.env_id()
        )),
    }
}

/// Encodes a recording as a looping GIF.
pub fn write_gif(path: &Path, recording: &Recording) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let file = File::create(path).map_err(|e| error(&e))?;
    let mut encoder = gif::Encoder::new(BufWriter::new(file), WIDTH as u16, HEIGHT as u16, &[])
        .map_err(|e| error(&e))?;
    encoder
        .set_repeat(gif::Repeat::Infinite)
        .map_err(|e| error(&e))?;
    for pixels in &recording.frames {
        let mut frame = gif::Frame::from_rgb_speed(WIDTH as u16, HEIGHT as u16, pixels, 10);
        frame.delay = recording.delay;
        encoder.write_frame(&frame).map_err(|e| error(&e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The non-white pixels' mean position, `(column, row)`.
    fn ink_centre(pixels: &[u8]) -> (f64, f64) {
        let (mut sum, mut count) = ((0.0, 0.0), 0.0);
        for (i, rgb) in pixels.chunks(3).enumerate() {
            if rgb != [255, 255, 255] {
                sum.0 += (i as u32 % WIDTH) as f64;
                sum.1 += (i as u32 / WIDTH) as f64;
                count += 1.0;
            }
        }
        (sum.0 / count, sum.1 / count)
    }

    #[test]
    fn pictures_follow_the_physical_state() {
        // The cart moves right with x; the pole leaning right (θ > 0) moves ink right.
        let centre = ink_centre(&draw_cartpole(&[0.0, 0.0, 0.0, 0.0]).unwrap());
        let moved = ink_centre(&draw_cartpole(&[1.0, 0.0, 0.0, 0.0]).unwrap());
        assert!(moved.0 > centre.0 + 50.0, "{centre:?} {moved:?}");
        let leaning = ink_centre(&draw_cartpole(&[0.0, 0.0, 0.5, 0.0]).unwrap());
        assert!(leaning.0 > centre.0 + 5.0);
        // Pendulum: upright (θ = 0) puts the rod above the pivot (smaller row), hanging below.
        let up = ink_centre(&draw_pendulum(&[0.0, 0.0]).unwrap());
        let down = ink_centre(&draw_pendulum(&[std::f64::consts::PI, 0.0]).unwrap());
        assert!(up.1 < (HEIGHT / 2) as f64 && down.1 > (HEIGHT / 2) as f64);
        // Acrobot hanging (θ = 0) is below its pivot; swung up it is above.
        let hanging = ink_centre(&draw_acrobot(&[0.0; 4]).unwrap());
        let swung = ink_centre(&draw_acrobot(&[std::f64::consts::PI, 0.0, 0.0, 0.0]).unwrap());
        assert!(swung.1 < hanging.1);
        // The car on the right slope is drawn right of the one in the valley.
        let valley = draw_mountain_car(&[-0.5, 0.0], 0.5).unwrap();
        let slope = draw_mountain_car(&[0.3, 0.0], 0.5).unwrap();
        assert_ne!(valley, slope);
    }
}
