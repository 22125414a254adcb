extension ConnectionOptions {
    /// These options with the values of `profile` where no flag was given.
    func withProfile(_ profile: ClientProfile) -> ConnectionOptions {
        var options = self
        // A server named by flag, by address or by name, replaces the profile's either way.
        let flagged = server != nil || serverName != nil
        options.server = server ?? (flagged ? nil : profile.texts["server"])
        options.serverName = serverName ?? (flagged ? nil : profile.texts["serverName"])
        options.secretFile = secretFile ?? profile.texts["secretFile"]
        options.keyFile = keyFile ?? profile.texts["keyFile"]
        options.interface = interface ?? profile.texts["interface"]
        options.group = group ?? profile.texts["group"]
        options.discoveryTimeout = discoveryTimeout ?? profile.texts["discoveryTimeout"]
        options.retries = retries ?? profile.numbers["retries"]
        options.retryFor = retryFor ?? profile.texts["retryFor"]
        options.retryWait = retryWait ?? profile.texts["retryWait"]
        options.timeout = timeout ?? profile.texts["timeout"]
        options.noTls = noTls || profile.isOff("tls")
        return options
    }
}
