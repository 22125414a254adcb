import FileSyncSystem
import Testing

@Suite("XDG base directories") struct XDGPathsTests {
    @Test("set variables are used as they are")
    func setVariables() {
        let paths = XDGPaths(
            environment: ["XDG_CONFIG_HOME": "/c", "XDG_CACHE_HOME": "/k", "XDG_RUNTIME_DIR": "/run/user/7"],
            home: "/home/ann")
        #expect(paths.config == "/c/filesync")
        #expect(paths.cache == "/k/filesync")
        #expect(paths.runtime == "/run/user/7/filesync")
    }

    @Test("an empty or relative variable counts as unset, never as the file system's root")
    func emptyMeansUnset() {
        let paths = XDGPaths(
            environment: ["XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": "", "XDG_STATE_HOME": "rel", "XDG_RUNTIME_DIR": ""],
            home: "/home/ann")
        #expect(paths.config == "/home/ann/.config/filesync")
        #expect(paths.cache == "/home/ann/.cache/filesync")
        #expect(paths.stateHome == "/home/ann/.local/state")
        #expect(paths.runtimeDirectory == nil)
        #expect(paths.runtime == "/home/ann/.cache/filesync")
    }
}
