//! Print the analysis of a command line as JSON:
//! `cargo run -p gatehouse-shell --example analyze -- 'sudo bash -c "rm -rf /"'`
//! With no arguments the command line is read from standard input.

use std::io::Read;

fn main() {
    let mut src = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    if src.is_empty()
        && let Err(err) = std::io::stdin().read_to_string(&mut src)
    {
        eprintln!("cannot read standard input: {err}");
        return;
    }
    let analysis = gatehouse_shell::analyze(&src);
    match serde_json::to_string_pretty(&analysis) {
        Ok(json) => println!("{json}"),
        Err(err) => eprintln!("cannot encode the analysis: {err}"),
    }
}
