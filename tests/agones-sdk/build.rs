//! Generates the SDK server side of Agones' own protos (copied unchanged from the `agones` 1.61
//! crate's `proto/` directory), only with the `server` feature: without it there is nothing to
//! build and no protoc is needed.

fn main() {
    #[cfg(feature = "server")]
    {
        println!("cargo:rerun-if-changed=proto");
        let generated = tonic_build::configure()
            .build_client(false)
            .build_server(true)
            .compile_protos(
                &["proto/sdk/sdk.proto", "proto/sdk/beta/beta.proto"],
                &[
                    "proto/googleapis",
                    "proto/grpc-gateway",
                    "proto/sdk/beta",
                    "proto/sdk",
                ],
            );
        if let Err(e) = generated {
            println!("cargo:warning=cannot compile Agones' protos (is protoc installed?): {e}");
            std::process::exit(1);
        }
    }
}
