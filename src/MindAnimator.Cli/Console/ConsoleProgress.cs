using System.Diagnostics;
using MindAnimator.Runs;
using Serilog;
using Spectre.Console;

namespace MindAnimator.Cli.Console;

/// <summary>
/// Progress for the terminal: a Spectre progress bar when the output is interactive, plain periodic log lines
/// otherwise (Spectre prints nothing off a terminal, and CI logs need milestones).
/// </summary>
internal sealed class ConsoleProgress : IProgressReporter
{
    private readonly ILogger _log;
    private readonly bool _interactive;

    public ConsoleProgress(ILogger log)
    {
        _log = log;
        _interactive = IsInteractive;
    }

    /// <summary>True on a real terminal outside CI.</summary>
    public static bool IsInteractive { get; } = AnsiConsole.Profile.Capabilities.Interactive && !System.Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public IProgressTask Start(string description, long total, string unit = "items") =>
        _interactive ? new BarTask(description, total, unit) : new LineTask(_log, description, total, unit);

    /// <summary>Logs at most every 10 % or every 15 s, and at the end, with the rate.</summary>
    private sealed class LineTask : IProgressTask
    {
        private readonly ILogger _log;
        private readonly string _description;
        private readonly long _total;
        private readonly string _unit;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _done;
        private long _lastLoggedDone;
        private double _lastLoggedSeconds;
        private string _status = string.Empty;

        public LineTask(ILogger log, string description, long total, string unit)
        {
            _log = log;
            _description = description;
            _total = Math.Max(1, total);
            _unit = unit;
        }

        public void Advance(long amount = 1)
        {
            _done += amount;
            var seconds = _clock.Elapsed.TotalSeconds;
            if (_done - _lastLoggedDone >= _total / 10.0 || seconds - _lastLoggedSeconds >= 15)
            {
                Log();
            }
        }

        public void SetStatus(string status) => _status = status;

        public void Dispose()
        {
            if (_done != _lastLoggedDone)
            {
                Log();
            }
        }

        private void Log()
        {
            _lastLoggedDone = _done;
            _lastLoggedSeconds = _clock.Elapsed.TotalSeconds;
            var rate = _done / Math.Max(1e-9, _lastLoggedSeconds);
            _log.Information("{Task}: {Done}/{Total} {Unit} ({Rate:F1} {Unit}/s) {Status}", _description, _done, _total, _unit, rate, _unit, _status);
        }
    }

    /// <summary>A live bar on its own thread; Spectre's Progress owns the console until disposed.</summary>
    private sealed class BarTask : IProgressTask
    {
        private readonly TaskCompletionSource _finished = new();
        private readonly Task _render;
        private readonly string _description;
        private ProgressTask? _task;
        private long _pending;

        public BarTask(string description, long total, string unit)
        {
            _description = description;
            var ready = new ManualResetEventSlim();
            _render = AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    _task = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                    ready.Set();
                    while (!_finished.Task.IsCompleted)
                    {
                        _task.Value = Interlocked.Read(ref _pending);
                        await Task.WhenAny(_finished.Task, Task.Delay(100));
                    }
                    _task.Value = Interlocked.Read(ref _pending);
                    _task.StopTask();
                });
            ready.Wait(TimeSpan.FromSeconds(5));
        }

        public void Advance(long amount = 1) => Interlocked.Add(ref _pending, amount);

        public void SetStatus(string status)
        {
            if (_task is not null)
            {
                _task.Description = Markup.Escape($"{_description} {status}");
            }
        }

        public void Dispose()
        {
            _finished.TrySetResult();
            _render.Wait();
        }
    }
}
