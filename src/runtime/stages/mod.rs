//! One file per `mlops run` stage. Each exposes `Args` (its clap arguments, which flatten
//! [`crate::runtime::context::CommonArgs`]) and `run(&Args) -> Exit`.

pub mod evaluate;
pub mod register;
pub mod train;
pub mod validate;
