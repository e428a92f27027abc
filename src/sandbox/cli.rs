//! `b24-calllist sandbox`: the emulated portal and OAuth server alone.

#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {}

pub async fn run(_args: SandboxArgs) -> anyhow::Result<()> {
    Ok(())
}
