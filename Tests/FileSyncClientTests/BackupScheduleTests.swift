import FileSyncClient
import Testing

@Suite("Backup schedule (setup's crontab line and timer)") struct BackupScheduleTests {
    @Test(
        "an interval becomes the nearest one cron repeats, with matching cron fields and OnCalendar",
        arguments: [
            (15 * 60, 15 * 60, "*/15 * * * *", "*:0/15"),
            (7 * 60, 6 * 60, "*/6 * * * *", "*:0/6"),
            (3600, 3600, "0 * * * *", "hourly"),
            (6 * 3600, 6 * 3600, "0 */6 * * *", "0/6:00"),
            (5 * 3600, 4 * 3600, "0 */4 * * *", "0/4:00"),
            (86400, 86400, "0 3 * * *", "*-*-* 03:00:00"),
            (7 * 86400, 86400, "0 3 * * *", "*-*-* 03:00:00"),
            (10, 60, "*/1 * * * *", "*:0/1"),
        ] as [(Int, Int, String, String)])
    func nearest(asked: Int, seconds: Int, cron: String, calendar: String) {
        let schedule = BackupSchedule(seconds: asked)
        #expect(schedule.seconds == seconds)
        #expect(schedule.cronFields == cron)
        #expect(schedule.calendar == calendar)
    }

    @Test("the units run the command as one oneshot service, quoting words systemd would split")
    func units() {
        let (service, timer) = BackupSchedule(seconds: 3600).systemdUnits(
            name: "nas", command: ["/usr/bin/filesync-client", "-q", "--profile", "my nas"])
        #expect(service.contains("Type=oneshot\nExecStart=/usr/bin/filesync-client -q --profile \"my nas\"\n"))
        #expect(timer.contains("OnCalendar=hourly\nPersistent=true"))
        #expect(timer.contains("WantedBy=timers.target"))
    }
}
