using System.CommandLine;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Import;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim data import cc2017|hcp|algonauts2021|npy|captions`.</summary>
internal static class ImportCommands
{
    public static Command Build()
    {
        var import = new Command("import", "Import a published dataset layout into the tool's formats.");
        import.Subcommands.Add(Cc2017());
        import.Subcommands.Add(Hcp());
        import.Subcommands.Add(Algonauts());
        import.Subcommands.Add(Npy());
        import.Subcommands.Add(Captions());
        return import;
    }

    /// <summary>
    /// The real-data importers take lags, voxel count and frame size from the config; the embedded default is the
    /// simulated demo's (lags 3/3, 1500 voxels, 64-px frames), which would silently produce a wrong dataset.
    /// </summary>
    private static void RequireDatasetConfig(CommandContext ctx, string dataset)
    {
        if (ctx.ConfigSource == ConfigLoader.EmbeddedDefaultName)
        {
            throw new MindAnimatorException($"data import {dataset} takes its preprocessing (lags, voxels kept, frame size) from the config, and the embedded default is the simulated demo's; pass --config configs/cc2017.yaml (the official values) or your own config");
        }
    }

    private static Option<string> OutOption(string what) => new("--out", "-o")
    {
        Description = $"Dataset folder to write ({what}, dataset.json).",
        Required = true,
    };

    private static Option<int> ClipsPerSegmentOption() => new("--clips-per-segment")
    {
        Description = "Clips per movie segment, for clip ids (CC2017: 240 two-second clips per 8-min segment).",
        DefaultValueFactory = _ => 240,
    };

    private static Command Cc2017()
    {
        var root = new Option<DirectoryInfo>("--root") { Description = "Folder of the published CC2017 layout (stimuli/, subject1/, …).", Required = true }.AcceptExistingOnly();
        var subject = new Option<int>("--subject") { Description = "Subject number (1, 2 or 3).", Required = true };
        var output = OutOption("fmri.parquet, fmri.voxels.parquet, clips/, captions.jsonl");
        var trainCaptions = new Option<string?>("--train-captions") { Description = "Captions of the 4320 training clips in order (Train_captions_new.h5, CSV or JSON)." };
        var testCaptions = new Option<string?>("--test-captions") { Description = "Captions of the 1200 test clips in order (Test_captions_new.h5, CSV or JSON)." };
        var noClips = new Option<bool>("--no-clips") { Description = "Skip the stimulus videos (fMRI only)." };
        var lags = new Option<string[]>("--segment-lag")
        {
            Description = "Lag in TRs for one segment, e.g. --segment-lag test1=1 (the official script reads test1 from volume 1, tests 2–5 from volume 2); repeatable.",
        };
        lags.Validators.Add(r =>
        {
            foreach (var v in r.GetValueOrDefault<string[]>() ?? Array.Empty<string>())
            {
                if (ParseLag(v) is null)
                {
                    r.AddError($"--segment-lag '{v}': expected SEGMENT=TRS such as test1=1 or seg3=1.");
                }
            }
        });
        var command = CommandRunner.Verb("cc2017", "CC2017 (Wen et al. 2018): CIFTI dense time series → preprocessed fMRI Parquet, stimulus clips, captions.", (ctx, parse) =>
        {
            RequireDatasetConfig(ctx, "cc2017");
            var run = ctx.CreateRun(parse.GetValue(output)!);
            Cc2017Importer.Run(new Cc2017ImportRequest
            {
                Root = parse.GetValue(root)!.FullName,
                Subject = parse.GetValue(subject),
                Output = run.Path,
                TrainCaptions = parse.GetValue(trainCaptions),
                TestCaptions = parse.GetValue(testCaptions),
                Clips = !parse.GetValue(noClips),
                Layout = Cc2017Layout.Published with
                {
                    LagOverrides = (parse.GetValue(lags) ?? Array.Empty<string>()).Select(v => ParseLag(v)!.Value).ToDictionary(x => x.Segment, x => x.Lag),
                },
                Overwrite = ctx.Force,
            }, ctx.Config, ctx.Progress, ctx.Log);
            return ExitCodes.Success;
        }, path: "data import cc2017");
        foreach (var o in new Option[] { root, subject, output, trainCaptions, testCaptions, noClips, lags })
        {
            command.Options.Add(o);
        }
        return command;
    }

    private static (string Segment, int Lag)? ParseLag(string text)
    {
        var parts = text.Split('=', 2);
        return parts.Length == 2 && System.Text.RegularExpressions.Regex.IsMatch(parts[0], "^(seg|test)[0-9]+$")
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var lag) && lag <= 10
            ? (parts[0], lag) : null;
    }

    private static Command Hcp()
    {
        var root = new Option<DirectoryInfo>("--root") { Description = "HCP folder holding <subject>/MNINonLinear/Results/tfMRI_MOVIE{1-4}_7T_*/.", Required = true }.AcceptExistingOnly();
        var subject = new Option<string>("--subject") { Description = "HCP subject id (e.g. 104416).", Required = true };
        var clipTimes = new Option<FileInfo>("--clip-times") { Description = "Movie clip intervals: CSV movie,start,end or JSON {\"1\": [[start, end], …]} (frames at --clip-times-fps, end exclusive).", Required = true }.AcceptExistingOnly();
        var fps = new Option<double>("--clip-times-fps") { Description = "Frame rate of the clip-time table (24 as the official clip_times_24; 1 for seconds).", DefaultValueFactory = _ => 24 };
        var lag = new Option<int>("--lag") { Description = "fMRI volume of the clip at second s is s + lag (TR 1 s; official 4).", DefaultValueFactory = _ => 4 };
        var testClips = new Option<int>("--test-clips") { Description = "The last N clips (movie order) form the test split.", DefaultValueFactory = _ => 0 };
        var atlas = new Option<FileInfo>("--atlas") { Description = "CIFTI dlabel atlas (HCP-MMP …32k_fs_LR.dlabel.nii) to keep the official visual ROIs." }.AcceptExistingOnly();
        var keys = new Option<int[]>("--roi-key") { Description = "Atlas label keys to keep (repeatable; default: the official visual-area keys)." };
        var stimuli = new Option<DirectoryInfo>("--stimuli") { Description = "Folder of 7T_MOVIE{n}_*.mp4 (omit to import the fMRI only)." }.AcceptExistingOnly();
        var output = OutOption("fmri.parquet, fmri.voxels.parquet, clips/");
        var command = CommandRunner.Verb("hcp", "HCP 7T movie: CIFTI runs + clip-time table → one sample per second of the movie clips.", (ctx, parse) =>
        {
            RequireDatasetConfig(ctx, "hcp");
            var run = ctx.CreateRun(parse.GetValue(output)!);
            HcpImporter.Run(new HcpImportRequest
            {
                Root = parse.GetValue(root)!.FullName,
                Subject = parse.GetValue(subject)!,
                ClipTimes = parse.GetValue(clipTimes)!.FullName,
                ClipTimesFps = parse.GetValue(fps),
                LagTrs = parse.GetValue(lag),
                TestClips = parse.GetValue(testClips),
                Atlas = parse.GetValue(atlas)?.FullName,
                RoiKeys = parse.GetValue(keys) is { Length: > 0 } k ? k : HcpImportRequest.OfficialRoiKeys,
                Stimuli = parse.GetValue(stimuli)?.FullName,
                Output = run.Path,
                Overwrite = ctx.Force,
            }, ctx.Config, ctx.Progress, ctx.Log);
            return ExitCodes.Success;
        }, path: "data import hcp");
        foreach (var o in new Option[] { root, subject, clipTimes, fps, lag, testClips, atlas, keys, stimuli, output })
        {
            command.Options.Add(o);
        }
        return command;
    }

    private static Command Algonauts()
    {
        var root = new Option<DirectoryInfo>("--root") { Description = "Folder holding participants_data_v2021/ and AlgonautsVideos268_All_30fpsmax/.", Required = true }.AcceptExistingOnly();
        var subject = new Option<int>("--subject") { Description = "Participant number (1–10).", Required = true };
        var track = new Option<string>("--track") { Description = "full (whole brain, WB.pkl) or mini (ROI pickles).", DefaultValueFactory = _ => "full" }.AcceptOnlyFromAmong("full", "mini");
        var rois = new Option<string[]>("--roi") { Description = "ROI pickles to concatenate (repeatable; default WB for the full track, V1 V2 V3 V4 LOC EBA FFA STS PPA for the mini track)." };
        var testVideos = new Option<int>("--test-videos") { Description = "The last N videos with fMRI form the test split.", DefaultValueFactory = _ => 100 };
        var captions = new Option<FileInfo>("--captions") { Description = "Captions of the videos in order (the official Video_Captions.h5, CSV or JSON)." }.AcceptExistingOnly();
        var noClips = new Option<bool>("--no-clips") { Description = "Skip the stimulus videos (fMRI only)." };
        var output = OutOption("fmri.parquet, fmri.voxels.parquet, clips/, captions.jsonl");
        var command = CommandRunner.Verb("algonauts2021", "Algonauts 2021: pickled responses → fMRI Parquet, first 8 frames of each video, captions.", (ctx, parse) =>
        {
            RequireDatasetConfig(ctx, "algonauts2021");
            var run = ctx.CreateRun(parse.GetValue(output)!);
            var t = parse.GetValue(track)!;
            var chosen = parse.GetValue(rois) is { Length: > 0 } r ? r : t == "full" ? new[] { "WB" } : new[] { "V1", "V2", "V3", "V4", "LOC", "EBA", "FFA", "STS", "PPA" };
            AlgonautsImporter.Run(new AlgonautsImportRequest
            {
                Root = parse.GetValue(root)!.FullName,
                Subject = parse.GetValue(subject),
                Track = t,
                Rois = chosen,
                TestVideos = parse.GetValue(testVideos),
                Captions = parse.GetValue(captions)?.FullName,
                Clips = !parse.GetValue(noClips),
                Output = run.Path,
                Overwrite = ctx.Force,
            }, ctx.Config, ctx.Progress, ctx.Log);
            return ExitCodes.Success;
        }, path: "data import algonauts2021");
        foreach (var o in new Option[] { root, subject, track, rois, testVideos, captions, noClips, output })
        {
            command.Options.Add(o);
        }
        return command;
    }

    private static Command Npy()
    {
        var fmri = new Option<FileInfo>("--fmri") { Description = "clips × voxels .npy of preprocessed responses (e.g. masked4500_test_data.npy).", Required = true }.AcceptExistingOnly();
        var clips = new Option<FileInfo>("--clips") { Description = "clips × frames × height × width × 3 .npy (uint8, or float in [0, 1]) of the stimuli, same clip order." }.AcceptExistingOnly();
        var captions = new Option<FileInfo>("--captions") { Description = "Captions in clip order (.h5, .csv, .json, .jsonl)." }.AcceptExistingOnly();
        var split = new Option<string>("--split") { Description = "Split of every row.", DefaultValueFactory = _ => Splits.Test }.AcceptOnlyFromAmong(Splits.All);
        var repeats = new Option<int?>("--repeats") { Description = "Repeats averaged in the data (default: 10 for test, 2 otherwise, as CC2017)." };
        var perSegment = ClipsPerSegmentOption();
        var output = OutOption("fmri.parquet, fmri.voxels.parquet, clips/, captions.jsonl");
        var command = CommandRunner.Verb("npy", "The authors' preprocessed arrays (e.g. masked4500_test_data.npy) → fMRI Parquet (+ clips, captions).", (ctx, parse) =>
        {
            var run = ctx.CreateRun(parse.GetValue(output)!);
            NpyImporter.Run(new NpyImportRequest
            {
                Fmri = parse.GetValue(fmri)!.FullName,
                Clips = parse.GetValue(clips)?.FullName,
                Captions = parse.GetValue(captions)?.FullName,
                Split = parse.GetValue(split)!,
                Repeats = parse.GetValue(repeats),
                ClipsPerSegment = parse.GetValue(perSegment),
                Subject = ctx.Config.Data.Subject,
                Output = run.Path,
                Overwrite = ctx.Force,
            }, ctx.Log);
            return ExitCodes.Success;
        }, compute: false, path: "data import npy");
        foreach (var o in new Option[] { fmri, clips, captions, split, repeats, perSegment, output })
        {
            command.Options.Add(o);
        }
        return command;
    }

    private static Command Captions()
    {
        var train = new Option<FileInfo>("--train") { Description = "Captions of the training clips in clip order (Train_captions_new.h5, CSV or JSON)." }.AcceptExistingOnly();
        var test = new Option<FileInfo>("--test") { Description = "Captions of the test clips in clip order (Test_captions_new.h5, CSV or JSON)." }.AcceptExistingOnly();
        var table = new Option<FileInfo[]>("--table") { Description = "A CSV/JSON/JSONL table with clip_id and caption columns (repeatable)." }.AcceptExistingOnly();
        var dataset = new Option<string?>("--dataset") { Description = "HDF5 dataset name (default: the file's only string dataset)." };
        var perSegment = ClipsPerSegmentOption();
        var output = new Option<string>("--out", "-o") { Description = "Caption table to write (JSON Lines).", DefaultValueFactory = _ => "captions.jsonl" };
        var command = CommandRunner.Verb("captions", "Caption files (official BLIP-2 .h5, CSV or JSON tables) → captions.jsonl.", (ctx, parse) =>
        {
            CaptionImport.Run(new CaptionImportRequest
            {
                Train = parse.GetValue(train)?.FullName,
                Test = parse.GetValue(test)?.FullName,
                Tables = (parse.GetValue(table) ?? Array.Empty<FileInfo>()).Select(f => f.FullName).ToList(),
                Dataset = parse.GetValue(dataset),
                ClipsPerSegment = parse.GetValue(perSegment),
                Output = parse.GetValue(output)!,
                Overwrite = ctx.Force,
            }, ctx.Log);
            return ExitCodes.Success;
        }, compute: false, path: "data import captions");
        foreach (var o in new Option[] { train, test, table, dataset, perSegment, output })
        {
            command.Options.Add(o);
        }
        return command;
    }
}
