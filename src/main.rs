fn main() -> std::process::ExitCode {
    mlops::cli::main()
}
