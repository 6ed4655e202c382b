// Mirrors Mind-Animator Data_preprocess/CC2017/step4_fMRI_preparation_FLSR.py (reading, lags, detrend, z-score, repeat
// averaging, reliability selection, scaling) and its frame sampling of the stimuli; shares the simulator's preprocessing.
using System.Diagnostics;
using System.Globalization;
using MindAnimator.Config;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Neuro;
using MindAnimator.Data.Video;
using MindAnimator.Preprocessing;
using MindAnimator.Runs;
using Serilog;

namespace MindAnimator.Data.Import;

/// <summary>The shape of the published CC2017 layout; tests shrink it.</summary>
public sealed record Cc2017Layout
{
    public int TrainSegments { get; init; } = 18;

    public int TestSegments { get; init; } = 5;

    public int TrainRepeats { get; init; } = 2;

    public int TestRepeats { get; init; } = 10;

    /// <summary>Two-second clips per 8-min segment (one TR each).</summary>
    public int ClipsPerSegment { get; init; } = 240;

    /// <summary>
    /// Runs left out, as "subject/segment/run". The official preprocessing averages subject 3's test2 over runs 1–8
    /// and 10 (run 9 is not used), so that run is excluded by default.
    /// </summary>
    public IReadOnlyList<string> ExcludedRuns { get; init; } = new[] { "3/test2/9" };

    /// <summary>
    /// Hemodynamic lag per segment name (e.g. "test1" → 1), overriding preprocess.train_lag_trs / test_lag_trs. Empty by
    /// default; note that the official script reads test1 from volume 1 and test2–5 from volume 2.
    /// </summary>
    public IReadOnlyDictionary<string, int> LagOverrides { get; init; } = new Dictionary<string, int>();

    public static readonly Cc2017Layout Published = new();

    public static string SegmentFolderName(string split, int segment) => split == Splits.Test ? $"test{segment}" : $"seg{segment}";

    /// <summary>The run numbers of a segment that are used (all repeats but the excluded ones).</summary>
    public int[] Runs(int subject, string split, int segment)
    {
        var repeats = split == Splits.Test ? TestRepeats : TrainRepeats;
        var name = SegmentFolderName(split, segment);
        return Enumerable.Range(1, repeats).Where(r => !ExcludedRuns.Contains($"{subject}/{name}/{r}")).ToArray();
    }

    public string SubjectFolder(string root, int subject) => Path.Combine(root, $"subject{subject}");

    public string RunPath(string root, int subject, string split, int segment, int repeat)
    {
        var name = SegmentFolderName(split, segment);
        return Path.Combine(SubjectFolder(root, subject), "fmri", name, "cifti", $"{name}_{repeat}_Atlas.dtseries.nii");
    }

    public string StimulusPath(string root, string split, int segment) =>
        Path.Combine(root, "stimuli", split == Splits.Test ? $"test{segment}.mp4" : $"seg{segment}.mp4");
}

/// <summary>What `data import cc2017` reads and writes.</summary>
public sealed record Cc2017ImportRequest
{
    public required string Root { get; init; }

    public required int Subject { get; init; }

    public required string Output { get; init; }

    public string? TrainCaptions { get; init; }

    public string? TestCaptions { get; init; }

    /// <summary>Decode the stimulus videos into the clip store.</summary>
    public bool Clips { get; init; } = true;

    public Cc2017Layout Layout { get; init; } = Cc2017Layout.Published;

    public bool Overwrite { get; init; }
}

/// <summary>Imports one CC2017 subject: CIFTI runs → preprocessed, repeat-averaged, reliability-selected fMRI table.</summary>
public static class Cc2017Importer
{
    private sealed record SegmentSpec(string Split, int Number, int[] Runs, int Lag)
    {
        public int Repeats => Runs.Length;
    }

    public static DatasetManifest Run(Cc2017ImportRequest request, MindAnimatorConfig config, IProgressReporter progress, ILogger log)
    {
        var total = Stopwatch.StartNew();
        var layout = request.Layout;
        var root = Path.GetFullPath(request.Root);
        var prep = config.Preprocess;
        SegmentSpec Spec(string split, int n) => new(split, n, layout.Runs(request.Subject, split, n),
            layout.LagOverrides.TryGetValue(Cc2017Layout.SegmentFolderName(split, n), out var lag) ? lag : split == Splits.Test ? prep.TestLagTrs : prep.TrainLagTrs);
        var segments = Enumerable.Range(1, layout.TrainSegments).Select(n => Spec(Splits.Train, n))
            .Concat(Enumerable.Range(1, layout.TestSegments).Select(n => Spec(Splits.Test, n))).ToList();
        foreach (var s in segments.Where(s => s.Repeats < (s.Split == Splits.Test ? layout.TestRepeats : layout.TrainRepeats)))
        {
            log.Information("{Segment}: using runs {Runs} (the others are excluded, as in the official preprocessing)", Cc2017Layout.SegmentFolderName(s.Split, s.Number), string.Join(", ", s.Runs));
        }
        CheckLayout(request, segments);

        var folder = Path.GetFullPath(request.Output);
        Directory.CreateDirectory(folder);
        DatasetFolder.EnsureWritable(folder, request.Overwrite, DatasetFolder.FmriFile, DatasetFolder.ClipsFolder, CaptionTable.DefaultFileName);

        // Captions first: a wrong caption file fails in seconds, not after the fMRI.
        var captions = ReadCaptions(request, layout);

        var table = PreprocessFmri(request, segments, config, progress, log);
        FmriParquet.Write(Path.Combine(folder, DatasetFolder.FmriFile), table, request.Overwrite);
        log.Information("Wrote {Samples} samples × {Voxels} voxels to {Path}", table.Samples.Count, table.VoxelCount, Path.Combine(folder, DatasetFolder.FmriFile));

        if (captions.Count > 0)
        {
            CaptionTable.Write(Path.Combine(folder, CaptionTable.DefaultFileName), captions, request.Overwrite);
        }
        if (request.Clips)
        {
            WriteClips(request, segments, config, Path.Combine(folder, DatasetFolder.ClipsFolder), progress, log);
        }
        var manifest = new DatasetManifest
        {
            Source = "cc2017",
            Subject = $"subject{request.Subject}",
            Fmri = DatasetFolder.FmriFile,
            Clips = request.Clips ? DatasetFolder.ClipsFolder : null,
            Captions = captions.Count > 0 ? CaptionTable.DefaultFileName : null,
            FramesPerClip = config.Data.FramesPerClip,
            FrameRateHz = config.Data.FrameRateHz,
            FrameSize = config.Data.FrameSize,
            Voxels = table.VoxelCount,
            Samples = DatasetFolder.SampleCounts(table),
        };
        manifest.Write(folder, request.Overwrite);
        log.Information("Imported CC2017 subject {Subject} into {Folder} in {Seconds:F1} s", request.Subject, folder, total.Elapsed.TotalSeconds);
        return manifest;
    }

    /// <summary>Fails before any work when the subject, a run or a video is missing, naming the path.</summary>
    private static void CheckLayout(Cc2017ImportRequest request, List<SegmentSpec> segments)
    {
        var layout = request.Layout;
        var root = request.Root;
        var subjectDir = layout.SubjectFolder(root, request.Subject);
        if (!Directory.Exists(subjectDir))
        {
            var present = Directory.Exists(root) ? Directory.GetDirectories(root, "subject*").Select(Path.GetFileName).Order().ToList() : new List<string?>();
            throw new MindAnimatorException($"{subjectDir}: subject {request.Subject} not found in the CC2017 folder {root} (subjects present: {(present.Count > 0 ? string.Join(", ", present) : "none")})");
        }
        foreach (var s in segments)
        {
            foreach (var r in s.Runs)
            {
                var path = layout.RunPath(root, request.Subject, s.Split, s.Number, r);
                if (!File.Exists(path))
                {
                    var kind = s.Split == Splits.Test ? "test" : "training";
                    throw new MindAnimatorException($"{path}: run {r} of {kind} segment {s.Number} is missing (CC2017 has {(s.Split == Splits.Test ? layout.TestRepeats : layout.TrainRepeats)} runs per {kind} segment)");
                }
            }
            if (request.Clips)
            {
                var video = layout.StimulusPath(root, s.Split, s.Number);
                if (!File.Exists(video))
                {
                    throw new MindAnimatorException($"{video}: stimulus video missing (pass --no-clips to import the fMRI only)");
                }
            }
        }
    }

    private static List<KeyValuePair<string, string>> ReadCaptions(Cc2017ImportRequest request, Cc2017Layout layout)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (file, split, segments) in new[] { (request.TrainCaptions, Splits.Train, layout.TrainSegments), (request.TestCaptions, Splits.Test, layout.TestSegments) })
        {
            if (file is null)
            {
                continue;
            }
            var rows = CaptionImporter.ReadAny(file);
            var expected = segments * layout.ClipsPerSegment;
            if (rows.Count != expected)
            {
                throw new DataFormatException(file, $"{rows.Count} captions, expected {expected} ({segments} {split} segments × {layout.ClipsPerSegment} clips)");
            }
            result.AddRange(CaptionImporter.AssignClipIds(rows, split, layout.ClipsPerSegment, file));
        }
        return result;
    }

    /// <summary>Reads, preprocesses and averages every run, selects reliable voxels and builds the table.</summary>
    private static FmriTable PreprocessFmri(Cc2017ImportRequest request, List<SegmentSpec> segments, MindAnimatorConfig config, IProgressReporter progress, ILogger log)
    {
        var layout = request.Layout;
        var prep = config.Preprocess;
        var grayordinates = prep.Grayordinates;
        var preprocessor = new RunPreprocessor(prep, layout.ClipsPerSegment);
        var clipSamples = new float[segments.Count][];
        var reliability = new ReliabilityAccumulator(grayordinates);
        string[]? structure = null;
        long[]? vertex = null;
        double bytesRead = 0, readSeconds = 0, prepSeconds = 0;
        var runs = segments.Sum(s => s.Repeats);
        using (var task = progress.Start("Reading and preprocessing CIFTI runs", runs, "runs"))
        {
            for (var i = 0; i < segments.Count; i++)
            {
                var s = segments[i];
                var windows = new List<float[]>();
                var sums = new float[layout.ClipsPerSegment * grayordinates];
                foreach (var r in s.Runs)
                {
                    var path = layout.RunPath(request.Root, request.Subject, s.Split, s.Number, r);
                    var sw = Stopwatch.StartNew();
                    var run = ReadRun(path, grayordinates);
                    readSeconds += sw.Elapsed.TotalSeconds;
                    bytesRead += run.Data.Length * 4.0;
                    if (structure is null)
                    {
                        (structure, vertex) = run.ColumnMap.Grayordinates();
                    }
                    sw.Restart();
                    var window = preprocessor.PrepareRun(run.Data, run.Rows, grayordinates, s.Lag, path, config.Threads);
                    preprocessor.AccumulateClipSamples(window, grayordinates, 0, grayordinates, sums, grayordinates, 0);
                    if (s.Split != Splits.Test)
                    {
                        windows.Add(window);
                    }
                    prepSeconds += sw.Elapsed.TotalSeconds;
                    task.Advance();
                    log.Debug("{Path}: {Rows} volumes × {Cols} grayordinates", path, run.Rows, grayordinates);
                }
                var inv = 1f / s.Repeats;
                for (var j = 0; j < sums.Length; j++)
                {
                    sums[j] *= inv;
                }
                clipSamples[i] = sums;
                if (windows.Count >= 2)
                {
                    reliability.AddSegment(windows, layout.ClipsPerSegment, config.Threads);
                }
            }
        }
        log.Information("Read {Runs} runs ({MB:F0} MB of CIFTI time series, {Rate:F0} MB/s); detrend + z-score took {Seconds:F1} s",
            runs, bytesRead / 1e6, bytesRead / 1e6 / Math.Max(readSeconds, 1e-9), prepSeconds);

        if (reliability.Segments < 2)
        {
            throw new MindAnimatorException($"the reliability voxel selection needs at least 2 training segments with 2 or more runs each; the layout has {reliability.Segments}");
        }
        if (prep.SelectVoxels > grayordinates)
        {
            throw new MindAnimatorException($"preprocess.select_voxels = {prep.SelectVoxels} is more than the {grayordinates} grayordinates read (preprocess.grayordinates)");
        }
        var result = reliability.Compute();
        var selected = result.SelectMostReliable(prep.SelectVoxels, prep.SelectionTieBreak == "index");
        log.Information("Selected {Selected} of {Grayordinates} grayordinates by test–retest reliability over {Segments} training segments", selected.Length, grayordinates, reliability.Segments);
        return BuildTable(request, config, segments, clipSamples, selected, structure!, vertex!);
    }

    /// <summary>The first <paramref name="grayordinates"/> columns of a dense time series, checked.</summary>
    public static CiftiImage ReadRun(string path, int grayordinates)
    {
        var run = CiftiFile.Read(path, grayordinates);
        var rows = run.Header.MapFor(0);
        var cols = run.Header.MapFor(1);
        if (rows?.IndicesMapToDataType != CiftiIndexTypes.Series || cols?.IndicesMapToDataType != CiftiIndexTypes.BrainModels)
        {
            throw new DataFormatException(path, $"expected a dense time series (rows: series, columns: brain models), got rows {rows?.IndicesMapToDataType ?? "none"} and columns {cols?.IndicesMapToDataType ?? "none"}");
        }
        if (run.FileColumns < grayordinates)
        {
            throw new DataFormatException(path, $"{run.FileColumns} grayordinates, fewer than the {grayordinates} to keep (preprocess.grayordinates)");
        }
        var data = run.Data;
        for (var i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                throw new DataFormatException(path, $"volume {i / grayordinates}, grayordinate {i % grayordinates} is {data[i]}; expected finite values");
            }
        }
        return run;
    }

    private static FmriTable BuildTable(Cc2017ImportRequest request, MindAnimatorConfig config, List<SegmentSpec> segments, float[][] clipSamples, int[] selected, string[] structure, long[] vertex)
    {
        var layout = request.Layout;
        var grayordinates = config.Preprocess.Grayordinates;
        var n = selected.Length;
        var clipsPer = layout.ClipsPerSegment;
        var samples = new List<FmriSample>();
        var subject = $"subject{request.Subject}";
        foreach (var group in new[] { segments.Select((s, i) => (s, i)).Where(x => x.s.Split != Splits.Test).ToList(), segments.Select((s, i) => (s, i)).Where(x => x.s.Split == Splits.Test).ToList() })
        {
            if (group.Count == 0)
            {
                continue;
            }
            // Train and test each get their own scaler, as the official code (scaler1 / scaler2).
            var rows = group.Count * clipsPer;
            var matrix = new float[rows * n];
            for (var g = 0; g < group.Count; g++)
            {
                RunPreprocessor.SelectColumns(clipSamples[group[g].i], clipsPer, grayordinates, selected).CopyTo(matrix, g * clipsPer * n);
            }
            if (config.Preprocess.StandardScale)
            {
                ColumnStatistics.StandardScale(matrix, rows, n, config.Threads);
            }
            var isTest = group[0].s.Split == Splits.Test;
            var validation = isTest ? 0 : (int)Math.Round(config.Data.ValidationFraction * rows);
            for (var g = 0; g < group.Count; g++)
            {
                var seg = group[g].s;
                for (var k = 0; k < clipsPer; k++)
                {
                    var row = (g * clipsPer) + k;
                    samples.Add(new FmriSample
                    {
                        ClipId = ClipIds.Clip(seg.Split, seg.Number, k),
                        Subject = subject,
                        Split = isTest ? Splits.Test : row >= rows - validation ? Splits.Val : Splits.Train,
                        Segment = ClipIds.Segment(seg.Split, seg.Number),
                        ClipIndex = k,
                        Repeats = seg.Repeats,
                        Voxels = matrix.AsSpan(row * n, n).ToArray(),
                    });
                }
            }
        }
        var voxels = selected.Select((g, i) => new VoxelInfo(i, g, structure[g], checked((int)vertex[g]), "", "")).ToArray();
        var inv = CultureInfo.InvariantCulture;
        var p = config.Preprocess;
        var metadata = new Dictionary<string, string>
        {
            ["source"] = "cc2017",
            ["subject"] = subject,
            ["grayordinates"] = grayordinates.ToString(inv),
            ["selected_voxels"] = n.ToString(inv),
            ["train_lag_trs"] = p.TrainLagTrs.ToString(inv),
            ["test_lag_trs"] = p.TestLagTrs.ToString(inv),
            ["detrend_order"] = p.DetrendOrder.ToString(inv),
            ["zscore"] = p.ZScore ? "per run" : "none",
            ["clips_per_segment"] = clipsPer.ToString(inv),
            ["voxel_selection"] = "reliability t-test (Fisher z of repeat correlation, Bonferroni), standard-scaled train/test separately",
        };
        return new FmriTable(samples, voxels, metadata);
    }

    private static void WriteClips(Cc2017ImportRequest request, List<SegmentSpec> segments, MindAnimatorConfig config, string folder, IProgressReporter progress, ILogger log)
    {
        VideoFiles.EnsureFfmpeg();
        var layout = request.Layout;
        var sampling = new ClipSampling(FramesPerClip: config.Data.FramesPerClip);
        using var store = ClipStore.Create(folder, request.Overwrite);
        using (var task = progress.Start("Decoding stimulus videos", segments.Count, "videos"))
        {
            foreach (var s in segments)
            {
                var path = layout.StimulusPath(request.Root, s.Split, s.Number);
                var count = 0;
                VideoFiles.ForEachClip(path, sampling, config.Data.FrameSize, k => ClipIds.Clip(s.Split, s.Number, k), clip =>
                {
                    if (count++ < layout.ClipsPerSegment)
                    {
                        store.Add(clip);
                    }
                });
                if (count < layout.ClipsPerSegment)
                {
                    throw new DataFormatException(path, $"{count} whole {sampling.SourceFramesPerClip}-frame clips, expected {layout.ClipsPerSegment} (a {layout.ClipsPerSegment * 2}-s movie at 30 fps)");
                }
                task.Advance();
            }
        }
        store.Complete();
        log.Information("Wrote {Clips} stimulus clips to {Folder}", segments.Count * layout.ClipsPerSegment, folder);
    }
}
