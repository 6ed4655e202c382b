// Mirrors Mind-Animator Data_preprocess/HCP (step1_cut_video_clips.py: 1-s clips at the seconds of each movie's clip
// intervals from a 24-fps frame table; step2_get_video_frames.py: every 3rd frame; step5: fMRI volume = second + 4,
// visual ROIs of the HCP-MMP dlabel), with the shared detrend + z-score per run.
using System.Globalization;
using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Neuro;
using MindAnimator.Data.Video;
using MindAnimator.Preprocessing;
using MindAnimator.Runs;
using Serilog;

namespace MindAnimator.Data.Import;

/// <summary>What `data import hcp` reads and writes.</summary>
public sealed record HcpImportRequest
{
    /// <summary>HCP folder holding &lt;subject&gt;/MNINonLinear/Results/tfMRI_MOVIE{n}_7T_{AP|PA}/.</summary>
    public required string Root { get; init; }

    public required string Subject { get; init; }

    /// <summary>
    /// The movie clip intervals: CSV with columns movie,start,end, or JSON {"1": [[start, end], …], …} (the official
    /// clip_times_24.npy dict). Start and end are frame numbers at <see cref="ClipTimesFps"/> (end exclusive).
    /// </summary>
    public required string ClipTimes { get; init; }

    /// <summary>Frames per second of the clip-time table (24 in the official table); 1 means seconds.</summary>
    public double ClipTimesFps { get; init; } = 24;

    public IReadOnlyList<int> Movies { get; init; } = new[] { 1, 2, 3, 4 };

    /// <summary>fMRI volume of the clip at second s: s + lag (TR = 1 s; the official code adds 4).</summary>
    public int LagTrs { get; init; } = 4;

    /// <summary>The last N clips (in movie order) form the test split.</summary>
    public int TestClips { get; init; }

    /// <summary>CIFTI dlabel atlas (e.g. the HCP-MMP Q1-Q6 …32k_fs_LR.dlabel.nii); null keeps every grayordinate.</summary>
    public string? Atlas { get; init; }

    /// <summary>Label keys kept from the atlas (default: the visual areas of the official script).</summary>
    public IReadOnlyList<int> RoiKeys { get; init; } = OfficialRoiKeys;

    /// <summary>Folder of 7T_MOVIE{n}_*.mp4; null skips the clips.</summary>
    public string? Stimuli { get; init; }

    public required string Output { get; init; }

    public bool Overwrite { get; init; }

    /// <summary>ROI_Keys of Data_preprocess/HCP/step5_fMRI_surface_preparation.py.</summary>
    public static readonly int[] OfficialRoiKeys = { 1, 2, 4, 5, 6, 13, 19, 20, 21, 23, 139, 140, 181, 182, 184, 185, 186, 193, 199, 200, 201, 203, 319, 320 };
}

/// <summary>Imports one HCP 7T movie subject: one sample per second of the movie clips.</summary>
public static class HcpImporter
{
    public static DatasetManifest Run(HcpImportRequest request, MindAnimatorConfig config, IProgressReporter progress, ILogger log)
    {
        var subjectDir = Path.Combine(request.Root, request.Subject);
        if (!Directory.Exists(subjectDir))
        {
            var present = Directory.Exists(request.Root) ? Directory.GetDirectories(request.Root).Select(Path.GetFileName).Order().Take(10).ToList() : new List<string?>();
            throw new MindAnimatorException($"{subjectDir}: subject {request.Subject} not found (folders present: {(present.Count > 0 ? string.Join(", ", present) : "none")})");
        }
        var clipTimes = ReadClipTimes(request.ClipTimes, request.ClipTimesFps);
        var runs = request.Movies.ToDictionary(m => m, m => RunPath(request.Root, request.Subject, m));
        var folder = Path.GetFullPath(request.Output);
        Directory.CreateDirectory(folder);
        DatasetFolder.EnsureWritable(folder, request.Overwrite, DatasetFolder.FmriFile, DatasetFolder.ClipsFolder);

        var grayordinates = config.Preprocess.Grayordinates;
        var (keep, roiNames) = SelectGrayordinates(request, grayordinates);
        var rows = new List<(int Movie, int Second, float[] Values)>();
        string[]? structure = null;
        long[]? vertex = null;
        using (var task = progress.Start("Reading and preprocessing HCP movie runs", request.Movies.Count, "runs"))
        {
            foreach (var movie in request.Movies)
            {
                if (!clipTimes.TryGetValue(movie, out var seconds) || seconds.Count == 0)
                {
                    throw new DataFormatException(request.ClipTimes, $"no clip intervals for movie {movie}");
                }
                var path = runs[movie];
                var run = Cc2017Importer.ReadRun(path, grayordinates);
                structure ??= run.ColumnMap.Grayordinates().Structure;
                vertex ??= run.ColumnMap.Grayordinates().Vertex;
                new PolynomialDetrender(run.Rows, config.Preprocess.DetrendOrder).Apply(run.Data, grayordinates, config.Threads);
                if (config.Preprocess.ZScore)
                {
                    ColumnStatistics.ZScore(run.Data, run.Rows, grayordinates, config.Threads);
                }
                foreach (var s in seconds)
                {
                    var volume = s + request.LagTrs;
                    if (volume >= run.Rows)
                    {
                        throw new DataFormatException(path, $"the clip at second {s} needs volume {volume} (lag {request.LagTrs}), the run has {run.Rows} volumes");
                    }
                    rows.Add((movie, s, keep.Select(g => run.Data[((long)volume * grayordinates) + g]).ToArray()));
                }
                log.Information("Movie {Movie}: {Clips} clips from {Path}", movie, seconds.Count, path);
                task.Advance();
            }
        }
        var table = BuildTable(request, config, rows, keep, roiNames, structure!, vertex!);
        FmriParquet.Write(Path.Combine(folder, DatasetFolder.FmriFile), table, request.Overwrite);
        if (request.Stimuli is not null)
        {
            WriteClips(request, config, rows.Select((r, i) => (r.Movie, r.Second, table.Samples[i].ClipId)).ToList(), Path.Combine(folder, DatasetFolder.ClipsFolder), progress, log);
        }
        var manifest = new DatasetManifest
        {
            Source = "hcp",
            Subject = request.Subject,
            Fmri = DatasetFolder.FmriFile,
            Clips = request.Stimuli is null ? null : DatasetFolder.ClipsFolder,
            FramesPerClip = config.Data.FramesPerClip,
            FrameRateHz = 8,
            FrameSize = config.Data.FrameSize,
            Voxels = table.VoxelCount,
            Samples = DatasetFolder.SampleCounts(table),
        };
        manifest.Write(folder, request.Overwrite);
        log.Information("Imported HCP subject {Subject}: {Samples} clips × {Voxels} grayordinates into {Folder}", request.Subject, rows.Count, keep.Length, folder);
        return manifest;
    }

    /// <summary>The dense time series of movie <paramref name="movie"/>: the one tfMRI_MOVIE{n}_7T_* folder, its *_Atlas.dtseries.nii.</summary>
    public static string RunPath(string root, string subject, int movie)
    {
        var results = Path.Combine(root, subject, "MNINonLinear", "Results");
        var dirs = Directory.Exists(results) ? Directory.GetDirectories(results, $"tfMRI_MOVIE{movie}_7T_*") : Array.Empty<string>();
        if (dirs.Length != 1)
        {
            throw new MindAnimatorException($"{Path.Combine(results, $"tfMRI_MOVIE{movie}_7T_*")}: expected one run folder for movie {movie}, found {dirs.Length}");
        }
        var name = Path.GetFileName(dirs[0]);
        var exact = Path.Combine(dirs[0], $"{name}_Atlas.dtseries.nii");
        if (File.Exists(exact))
        {
            return exact;
        }
        var any = Directory.GetFiles(dirs[0], $"{name}_Atlas*.dtseries.nii");
        return any.Length == 1 ? any[0] : throw new MindAnimatorException($"{exact}: run of movie {movie} is missing{(any.Length > 1 ? $" (and {any.Length} other *_Atlas*.dtseries.nii files make the choice ambiguous)" : "")}");
    }

    /// <summary>The whole seconds of each movie's clip intervals, as the official arange(start / fps, end / fps).astype(int).</summary>
    public static Dictionary<int, List<int>> ReadClipTimes(string path, double fps)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "clip-time table not found");
        }
        var intervals = new List<(int Movie, double Start, double End)>();
        if (Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(path));
                foreach (var movie in doc.RootElement.EnumerateObject())
                {
                    foreach (var pair in movie.Value.EnumerateArray())
                    {
                        intervals.Add((int.Parse(movie.Name, CultureInfo.InvariantCulture), pair[0].GetDouble(), pair[1].GetDouble()));
                    }
                }
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new DataFormatException(path, $"expected {{\"1\": [[start, end], …], …}} ({e.Message})", e);
            }
        }
        else
        {
            var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList();
            var header = lines.Count > 0 ? lines[0].Split(',').Select(h => h.Trim().ToLowerInvariant()).ToList() : new List<string>();
            int Col(string name) => header.IndexOf(name) is var i and >= 0 ? i : throw new DataFormatException(path, $"no '{name}' column (expected a header movie,start,end)");
            var (m, s, e) = (Col("movie"), Col("start"), Col("end"));
            for (var i = 1; i < lines.Count; i++)
            {
                var f = lines[i].Split(',');
                if (f.Length != header.Count || !int.TryParse(f[m], CultureInfo.InvariantCulture, out var movie)
                    || !double.TryParse(f[s], CultureInfo.InvariantCulture, out var start) || !double.TryParse(f[e], CultureInfo.InvariantCulture, out var end))
                {
                    throw new DataFormatException(path, $"line {i + 1}: expected movie,start,end numbers, got '{lines[i]}'");
                }
                intervals.Add((movie, start, end));
            }
        }
        var result = new Dictionary<int, List<int>>();
        foreach (var (movie, start, end) in intervals.OrderBy(x => x.Movie).ThenBy(x => x.Start))
        {
            if (end < start)
            {
                throw new DataFormatException(path, $"movie {movie}: interval [{start}, {end}) ends before it starts");
            }
            var list = result.TryGetValue(movie, out var l) ? l : result[movie] = new List<int>();
            for (var t = start / fps; t < end / fps; t += 1)
            {
                list.Add((int)t);
            }
        }
        foreach (var (movie, seconds) in result)
        {
            for (var i = 1; i < seconds.Count; i++)
            {
                if (seconds[i] <= seconds[i - 1])
                {
                    throw new DataFormatException(path, $"movie {movie}: clip intervals overlap at second {seconds[i]}");
                }
            }
        }
        return result;
    }

    private static (int[] Keep, string[] Roi) SelectGrayordinates(HcpImportRequest request, int grayordinates)
    {
        if (request.Atlas is null)
        {
            return (Enumerable.Range(0, grayordinates).ToArray(), Enumerable.Repeat("", grayordinates).ToArray());
        }
        var atlas = CiftiFile.Read(request.Atlas, grayordinates);
        var labels = atlas.RowMap.NamedMaps.FirstOrDefault()?.LabelTable
            ?? throw new DataFormatException(request.Atlas, "not a label file (its rows have no label table)");
        var names = labels.ToDictionary(l => l.Key, l => l.Name);
        var keys = request.RoiKeys.ToHashSet();
        var keep = Enumerable.Range(0, atlas.Columns).Where(g => keys.Contains((int)atlas[0, g])).ToArray();
        if (keep.Length == 0)
        {
            throw new DataFormatException(request.Atlas, $"no grayordinate carries one of the labels {string.Join(", ", request.RoiKeys)}");
        }
        var roi = new string[grayordinates];
        foreach (var g in keep)
        {
            roi[g] = names.TryGetValue((int)atlas[0, g], out var n) ? n : "";
        }
        return (keep, roi);
    }

    private static FmriTable BuildTable(HcpImportRequest request, MindAnimatorConfig config, List<(int Movie, int Second, float[] Values)> rows, int[] keep, string[] roi, string[] structure, long[] vertex)
    {
        var n = keep.Length;
        if (request.TestClips < 0 || request.TestClips >= rows.Count)
        {
            throw new MindAnimatorException($"--test-clips {request.TestClips} must leave training clips among the {rows.Count}");
        }
        var trainRows = rows.Count - request.TestClips;
        var samples = new List<FmriSample>();
        var perMovie = new Dictionary<int, int>();
        foreach (var (first, count, split) in new[] { (0, trainRows, Splits.Train), (trainRows, request.TestClips, Splits.Test) })
        {
            if (count == 0)
            {
                continue;
            }
            var matrix = new float[count * n];
            for (var r = 0; r < count; r++)
            {
                rows[first + r].Values.CopyTo(matrix, r * n);
            }
            if (config.Preprocess.StandardScale)
            {
                ColumnStatistics.StandardScale(matrix, count, n, config.Threads);
            }
            var validation = split == Splits.Test ? 0 : (int)Math.Round(config.Data.ValidationFraction * count);
            for (var r = 0; r < count; r++)
            {
                var movie = rows[first + r].Movie;
                var k = perMovie[movie] = perMovie.TryGetValue(movie, out var c) ? c + 1 : 0;
                samples.Add(new FmriSample
                {
                    ClipId = ClipIds.Clip(split, movie, k),
                    Subject = request.Subject,
                    Split = split == Splits.Test ? Splits.Test : r >= count - validation ? Splits.Val : Splits.Train,
                    Segment = ClipIds.Segment(split, movie),
                    ClipIndex = k,
                    Repeats = 1,
                    Voxels = matrix.AsSpan(r * n, n).ToArray(),
                });
            }
        }
        var voxels = keep.Select((g, i) => new VoxelInfo(i, g, structure[g], checked((int)vertex[g]), roi[g], "")).ToArray();
        var meta = new Dictionary<string, string>
        {
            ["source"] = "hcp",
            ["subject"] = request.Subject,
            ["lag_trs"] = request.LagTrs.ToString(CultureInfo.InvariantCulture),
            ["detrend_order"] = config.Preprocess.DetrendOrder.ToString(CultureInfo.InvariantCulture),
            ["atlas"] = request.Atlas is null ? "" : Path.GetFileName(request.Atlas),
            ["roi_keys"] = request.Atlas is null ? "" : string.Join(",", request.RoiKeys),
            ["preprocessing"] = "order-4 detrend and z-score per run, volume = second + lag, standard-scaled train/test separately",
        };
        return new FmriTable(samples, voxels, meta);
    }

    private static void WriteClips(HcpImportRequest request, MindAnimatorConfig config, List<(int Movie, int Second, string ClipId)> clips, string folder, IProgressReporter progress, ILogger log)
    {
        VideoFiles.EnsureFfmpeg();
        // 1-s clips of the 24-fps movies, every 3rd frame (frames 0, 3, …, 21).
        var sampling = new ClipSampling(config.Data.FramesPerClip, SourceFramesPerClip: 24, FrameStep: 3);
        var movies = clips.Select(c => c.Movie).Distinct().ToList();
        using var store = ClipStore.Create(folder, request.Overwrite);
        using (var task = progress.Start("Decoding HCP movies", movies.Count, "movies"))
        {
            foreach (var movie in movies)
            {
                var video = Directory.Exists(request.Stimuli) ? Directory.GetFiles(request.Stimuli!, $"7T_MOVIE{movie}_*.mp4").Order().FirstOrDefault() : null;
                if (video is null)
                {
                    throw new MindAnimatorException($"{Path.Combine(request.Stimuli!, $"7T_MOVIE{movie}_*.mp4")}: stimulus movie {movie} not found");
                }
                // The table lists a movie's seconds in increasing order (checked when reading the clip times), the
                // order ffmpeg decodes them in, so clips go straight into the store.
                var wanted = new Queue<(int Second, string ClipId)>(clips.Where(c => c.Movie == movie).Select(c => (c.Second, c.ClipId)));
                VideoFiles.ForEachClip(video, sampling, config.Data.FrameSize, s => s.ToString(CultureInfo.InvariantCulture), clip =>
                {
                    var second = int.Parse(clip.ClipId, CultureInfo.InvariantCulture);
                    if (wanted.Count > 0 && wanted.Peek().Second == second)
                    {
                        store.Add(clip with { ClipId = wanted.Dequeue().ClipId });
                    }
                });
                if (wanted.Count > 0)
                {
                    throw new DataFormatException(video, $"the movie ends before second {wanted.Peek().Second} (clip {wanted.Peek().ClipId})");
                }
                task.Advance();
            }
        }
        store.Complete();
        log.Information("Wrote {Clips} clips to {Folder}", clips.Count, folder);
    }
}
