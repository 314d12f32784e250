//! Print the analysis of a command line as JSON:
//! `cargo run -p gatehouse-shell --example analyze -- 'sudo bash -c "rm -rf /"'`

fn main() {
    let src = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let analysis = gatehouse_shell::analyze(&src);
    match serde_json::to_string_pretty(&analysis) {
        Ok(json) => println!("{json}"),
        Err(err) => eprintln!("cannot encode the analysis: {err}"),
    }
}
