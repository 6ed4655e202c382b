using System.CommandLine;
using System.Globalization;
using MindAnimator.Reconstruction;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim reconstruct`: fMRI → 8-frame videos (GIF, MP4, side-by-side, tensor files for `eval`).</summary>
internal static class ReconstructCommand
{
    public static Command Build()
    {
        var fmri = new Option<string>("--fmri") { Description = "fMRI table (.parquet from `data simulate`/`data import`) or its dataset folder.", Required = true };
        var split = new Option<string>("--split") { Description = "Samples to reconstruct: test, val, train or all.", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "val", "train", "all");
        var run = new Option<string?>("--run") { Description = "Folder holding the semantic/, structure/ and motion/ training runs (as `demo` writes them)." };
        var semantic = new Option<string?>("--semantic") { Description = "Semantic decoder: a training run folder or a checkpoint .json (overrides --run)." };
        var structure = new Option<string?>("--structure") { Description = "Structure decoder: a training run folder or a checkpoint .json (overrides --run)." };
        var motion = new Option<string?>("--motion") { Description = "Motion decoder (CMG): a training run folder or a checkpoint .json (overrides --run)." };
        var sd = new Option<string?>("--sd") { Description = "diffusers Stable Diffusion v1.x folder (overrides diffusion.sd_folder; default: the shipped demo prior)." };
        var gt = new Option<string?>("--gt") { Description = "Ground-truth clips for side-by-side GIFs (default: the dataset's clip store)." };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: frames/ (tensor files for `eval`), gif/, side_by_side/, mp4/.", DefaultValueFactory = _ => "runs/reconstruct" };
        var shard = new Option<string>("--shard") { Description = "Do only part i of n (0 ≤ i < n) of the clips, e.g. --shard $SLURM_ARRAY_TASK_ID/8 with --array=0-7; shards share --out.", DefaultValueFactory = _ => "0/1" };
        var batch = new Option<int?>("--batch-size") { Description = "Clips per batch (overrides diffusion.batch_size)." };
        var mask = new Option<string?>("--mask") { Description = "Motion decoder's inference mask: official (frames ≥ 2 see frame 0 only) or causal (overrides motion.inference_mask)." };
        mask.AcceptOnlyFromAmong("official", "causal");
        var limit = new Option<int>("--limit") { Description = "Only the first N clips (0 = all)." };
        var shuffle = new Option<bool>("--shuffle-motion-fmri") { Description = "Control: feed the motion decoder another clip's fMRI (seeded derangement); semantics and structure keep their own." };
        var withoutMotion = new Option<bool>("--without-motion-decoder") { Description = "Ablation (the paper's): no motion decoder; every frame starts from the decoded first-frame latent." };
        var noMp4 = new Option<bool>("--no-mp4") { Description = "Write no MP4 files." };
        var command = CommandRunner.Verb("reconstruct", "Decode fMRI into 8-frame videos: decoders → CMG latents → DDIM inversion → re-noise → guided DDIM with the inflated Stable Diffusion.", (ctx, parse) =>
        {
            var shardPart = ParseShard(parse.GetValue(shard)!);
            var folder = ctx.CreateRun(parse.GetValue(output)!, resumable: true);
            var summary = ReconstructionJob.Run(new ReconstructionJobOptions
            {
                Fmri = parse.GetValue(fmri)!,
                Split = parse.GetValue(split)!,
                Run = parse.GetValue(run),
                Semantic = parse.GetValue(semantic),
                Structure = parse.GetValue(structure),
                Motion = parse.GetValue(motion),
                GroundTruth = parse.GetValue(gt),
                Output = folder.Path,
                Shard = shardPart,
                Limit = parse.GetValue(limit),
                ShuffleMotionFmri = parse.GetValue(shuffle),
                WithoutMotionDecoder = parse.GetValue(withoutMotion),
                Force = ctx.Force,
                WriteMp4 = !parse.GetValue(noMp4),
            }, ctx.Config, ctx.Device, ctx.Progress, ctx.Log);
            var t = summary.Timings;
            ctx.Log.Information("Stage seconds: decoders {D:F1}, motion {M:F1}, inversion {I:F1}, sampling {S:F1}, VAE decode {V:F1}, writing {W:F1}; eval input: {Frames}",
                t.Decoders, t.Motion, t.Inversion, t.Sampling, t.VaeDecode, t.Writing, summary.FramesFolder);
            return ExitCodes.Success;
        }, overrides: parse =>
        {
            var list = new List<string>();
            if (parse.GetValue(sd) is { } s)
            {
                list.Add($"diffusion.sd_folder={Path.GetFullPath(s)}");
            }
            if (parse.GetValue(batch) is { } b)
            {
                list.Add($"diffusion.batch_size={b}");
            }
            if (parse.GetValue(mask) is { } m)
            {
                list.Add($"motion.inference_mask={m}");
            }
            return list;
        });
        foreach (var o in new Option[] { fmri, split, run, semantic, structure, motion, sd, gt, output, shard, batch, mask, limit, shuffle, withoutMotion, noMp4 })
        {
            command.Options.Add(o);
        }
        return command;
    }

    private static (int Index, int Count) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && i < n)
        {
            return (i, n);
        }
        throw new MindAnimatorException($"--shard '{text}': expected i/n with 0 ≤ i < n, e.g. 0/4.");
    }
}
