// Mirrors the Algonauts 2021 devkit (utils/helper.py load_dict/get_fmri: pickled {'train': videos × repeats × voxels,
// 'voxel_mask'}, averaged over repeats) and Mind-Animator Data_preprocess/Algonauts2021/get_frames.py (first 8 frames).
using System.Globalization;
using System.Text.RegularExpressions;
using MindAnimator.Config;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;
using MindAnimator.Preprocessing;
using MindAnimator.Runs;
using Serilog;

namespace MindAnimator.Data.Import;

/// <summary>What `data import algonauts2021` reads and writes.</summary>
public sealed record AlgonautsImportRequest
{
    /// <summary>Folder holding participants_data_v2021/ and AlgonautsVideos268_All_30fpsmax/.</summary>
    public required string Root { get; init; }

    public required int Subject { get; init; }

    /// <summary>"full" (whole brain, WB.pkl) or "mini" (ROI pickles).</summary>
    public string Track { get; init; } = "full";

    /// <summary>ROIs to concatenate (mini track: V1, V2, V3, V4, LOC, EBA, FFA, STS, PPA; full track: WB).</summary>
    public IReadOnlyList<string> Rois { get; init; } = new[] { "WB" };

    /// <summary>The last N videos with fMRI form the test split (the rest train/val).</summary>
    public int TestVideos { get; init; } = 100;

    /// <summary>Captions of the videos in order (the official Video_Captions.h5, or a table).</summary>
    public string? Captions { get; init; }

    public bool Clips { get; init; } = true;

    public required string Output { get; init; }

    public bool Overwrite { get; init; }
}

/// <summary>Imports one Algonauts 2021 participant: repeat-averaged responses per video, first 8 frames of each video.</summary>
public static class AlgonautsImporter
{
    public const string DataFolder = "participants_data_v2021";
    public const string VideoFolder = "AlgonautsVideos268_All_30fpsmax";

    public static string PicklePath(string root, string track, int subject, string roi) =>
        Path.Combine(root, DataFolder, $"{track}_track", $"sub{subject:D2}", $"{roi}.pkl");

    public static DatasetManifest Run(AlgonautsImportRequest request, MindAnimatorConfig config, IProgressReporter progress, ILogger log)
    {
        if (request.Track is not ("full" or "mini"))
        {
            throw new MindAnimatorException($"track '{request.Track}' is not one of full, mini");
        }
        var subjectDir = Path.GetDirectoryName(PicklePath(request.Root, request.Track, request.Subject, "x"))!;
        if (!Directory.Exists(subjectDir))
        {
            throw new MindAnimatorException($"{subjectDir}: subject {request.Subject} not found for the {request.Track} track");
        }
        var folder = Path.GetFullPath(request.Output);
        Directory.CreateDirectory(folder);
        DatasetFolder.EnsureWritable(folder, request.Overwrite, DatasetFolder.FmriFile, DatasetFolder.ClipsFolder, CaptionTable.DefaultFileName);

        var (responses, videos, voxels) = ReadResponses(request, log);
        if (request.TestVideos < 0 || request.TestVideos >= videos)
        {
            throw new MindAnimatorException($"--test-videos {request.TestVideos} must leave training videos among the {videos} with fMRI");
        }
        var ids = Enumerable.Range(0, videos).Select(ClipId(videos, request.TestVideos)).ToList();
        var table = BuildTable(request, config, responses, videos, voxels, ids);
        FmriParquet.Write(Path.Combine(folder, DatasetFolder.FmriFile), table, request.Overwrite);

        string? captions = null;
        if (request.Captions is not null)
        {
            var rows = CaptionImporter.ReadAny(request.Captions);
            if (rows.Count < videos)
            {
                throw new DataFormatException(request.Captions, $"{rows.Count} captions for {videos} videos with fMRI");
            }
            CaptionTable.Write(Path.Combine(folder, CaptionTable.DefaultFileName), ids.Select((id, i) => new KeyValuePair<string, string>(id, rows[i].Caption)), request.Overwrite);
            captions = CaptionTable.DefaultFileName;
        }
        if (request.Clips)
        {
            WriteClips(request, config, ids, Path.Combine(folder, DatasetFolder.ClipsFolder), progress, log);
        }
        var manifest = new DatasetManifest
        {
            Source = "algonauts2021",
            Subject = $"sub{request.Subject:D2}",
            Fmri = DatasetFolder.FmriFile,
            Clips = request.Clips ? DatasetFolder.ClipsFolder : null,
            Captions = captions,
            FramesPerClip = config.Data.FramesPerClip,
            FrameRateHz = 30,
            FrameSize = config.Data.FrameSize,
            Voxels = table.VoxelCount,
            Samples = DatasetFolder.SampleCounts(table),
        };
        manifest.Write(folder, request.Overwrite);
        log.Information("Imported Algonauts 2021 sub{Subject:D2} ({Videos} videos × {Voxels} voxels) into {Folder}", request.Subject, videos, voxels.Count, folder);
        return manifest;
    }

    private static Func<int, string> ClipId(int videos, int testVideos) => i =>
        i < videos - testVideos ? ClipIds.Clip(Splits.Train, 1, i) : ClipIds.Clip(Splits.Test, 1, i - (videos - testVideos));

    /// <summary>Repeat-averaged responses (videos × voxels, ROIs side by side) and a description of each voxel.</summary>
    public static (float[] Responses, int Videos, List<VoxelInfo> Voxels) ReadResponses(AlgonautsImportRequest request, ILogger log)
    {
        var parts = new List<(double[] Mean, int Voxels)>();
        var infos = new List<VoxelInfo>();
        var videos = -1;
        foreach (var roi in request.Rois)
        {
            var path = PicklePath(request.Root, request.Track, request.Subject, roi);
            var arrays = NumpyPickle.LoadArrays(path);
            if (!arrays.TryGetValue("train", out var train))
            {
                throw new DataFormatException(path, $"no 'train' array (keys: {string.Join(", ", arrays.Keys)})");
            }
            if (train.Shape.Length != 3)
            {
                throw new DataFormatException(path, $"'train' has shape ({string.Join(", ", train.Shape)}), expected videos × repeats × voxels");
            }
            var (n, reps, vox) = ((int)train.Shape[0], (int)train.Shape[1], (int)train.Shape[2]);
            if (videos >= 0 && n != videos)
            {
                throw new DataFormatException(path, $"{n} videos, but the other ROIs have {videos}");
            }
            videos = n;
            var mean = new double[n * vox];
            for (var i = 0; i < n; i++)
            {
                for (var r = 0; r < reps; r++)
                {
                    for (var v = 0; v < vox; v++)
                    {
                        var x = train.Values[(((long)i * reps) + r) * vox + v];
                        if (!double.IsFinite(x))
                        {
                            throw new DataFormatException(path, $"video {i}, repeat {r}, voxel {v} is {x}; expected finite values");
                        }
                        mean[(i * vox) + v] += x / reps;
                    }
                }
            }
            // Whole-brain voxels: their flat positions (C order) in the voxel mask's volume.
            var source = Enumerable.Range(0, vox).ToArray();
            if (arrays.TryGetValue("voxel_mask", out var mask))
            {
                var positions = Enumerable.Range(0, mask.Values.Length).Where(i => mask.Values[i] != 0).ToArray();
                if (positions.Length != vox)
                {
                    throw new DataFormatException(path, $"'voxel_mask' marks {positions.Length} voxels but 'train' has {vox}");
                }
                source = positions;
            }
            var first = infos.Count;
            infos.AddRange(source.Select((s, k) => new VoxelInfo(first + k, s, "VOLUME", -1, roi, "")).ToList());
            parts.Add((mean, vox));
            log.Information("{Roi}: {Videos} videos × {Repeats} repeats × {Voxels} voxels from {Path}", roi, n, reps, vox, path);
        }
        var total = parts.Sum(p => p.Voxels);
        var responses = new float[videos * total];
        var col = 0;
        foreach (var (mean, vox) in parts)
        {
            for (var i = 0; i < videos; i++)
            {
                for (var v = 0; v < vox; v++)
                {
                    responses[(i * total) + col + v] = (float)mean[(i * vox) + v];
                }
            }
            col += vox;
        }
        return (responses, videos, infos);
    }

    private static FmriTable BuildTable(AlgonautsImportRequest request, MindAnimatorConfig config, float[] responses, int videos, List<VoxelInfo> voxels, List<string> ids)
    {
        var n = voxels.Count;
        var trainRows = videos - request.TestVideos;
        var samples = new List<FmriSample>();
        foreach (var (first, rows, split) in new[] { (0, trainRows, Splits.Train), (trainRows, request.TestVideos, Splits.Test) })
        {
            if (rows == 0)
            {
                continue;
            }
            var matrix = responses.AsSpan(first * n, rows * n).ToArray();
            if (config.Preprocess.StandardScale)
            {
                ColumnStatistics.StandardScale(matrix, rows, n, config.Threads);
            }
            var validation = split == Splits.Test ? 0 : (int)Math.Round(config.Data.ValidationFraction * rows);
            for (var r = 0; r < rows; r++)
            {
                samples.Add(new FmriSample
                {
                    ClipId = ids[first + r],
                    Subject = $"sub{request.Subject:D2}",
                    Split = split == Splits.Test ? Splits.Test : r >= rows - validation ? Splits.Val : Splits.Train,
                    Segment = ClipIds.Segment(split, 1),
                    ClipIndex = r,
                    Repeats = 3,
                    Voxels = matrix.AsSpan(r * n, n).ToArray(),
                });
            }
        }
        var meta = new Dictionary<string, string>
        {
            ["source"] = "algonauts2021",
            ["track"] = request.Track,
            ["rois"] = string.Join(",", request.Rois),
            ["test_videos"] = request.TestVideos.ToString(CultureInfo.InvariantCulture),
            ["preprocessing"] = "responses as released (averaged over repeats), standard-scaled train/test separately",
        };
        return new FmriTable(samples, voxels, meta);
    }

    /// <summary>The stimulus videos in the official order: sorted by the number their name starts with.</summary>
    public static List<string> VideoPaths(string root)
    {
        var dir = Path.Combine(root, VideoFolder);
        if (!Directory.Exists(dir))
        {
            throw new MindAnimatorException($"{dir}: video folder not found (pass --no-clips to import the fMRI only)");
        }
        var number = new Regex(@"(\d+)_");
        return Directory.GetFiles(dir, "*.mp4")
            .OrderBy(p => number.Match(Path.GetFileName(p)) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : long.MaxValue)
            .ThenBy(p => p, StringComparer.Ordinal).ToList();
    }

    private static void WriteClips(AlgonautsImportRequest request, MindAnimatorConfig config, List<string> ids, string folder, IProgressReporter progress, ILogger log)
    {
        VideoFiles.EnsureFfmpeg();
        var videos = VideoPaths(request.Root);
        if (videos.Count < ids.Count)
        {
            throw new MindAnimatorException($"{Path.Combine(request.Root, VideoFolder)}: {videos.Count} videos for {ids.Count} fMRI samples");
        }
        // The official frames are the first 8 of each (≤ 30 fps) video.
        var sampling = new ClipSampling(config.Data.FramesPerClip, SourceFramesPerClip: int.MaxValue, FrameStep: 1);
        using var store = ClipStore.Create(folder, request.Overwrite);
        using (var task = progress.Start("Decoding stimulus videos", ids.Count, "videos"))
        {
            for (var i = 0; i < ids.Count; i++)
            {
                var clips = VideoFiles.ReadClips(videos[i], sampling, config.Data.FrameSize, _ => ids[i]);
                if (clips.Count == 0)
                {
                    throw new DataFormatException(videos[i], $"fewer than {sampling.FramesPerClip} frames");
                }
                store.Add(clips[0]);
                task.Advance();
            }
        }
        store.Complete();
        log.Information("Wrote {Clips} clips to {Folder}", ids.Count, folder);
    }
}
