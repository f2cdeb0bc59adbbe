// Linker flags a Node-API addon needs on each platform (macOS: undefined
// napi_* symbols resolved at load time; Windows: the node.lib import).
fn main() {
    napi_build::setup();
}
