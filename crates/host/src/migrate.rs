use clap::Args;

#[derive(Args, Debug)]
pub struct MigrateArgs {}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("not yet")
}
