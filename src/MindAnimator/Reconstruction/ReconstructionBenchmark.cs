using MindAnimator.Benchmarks;
using MindAnimator.Config;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Models.Decoders;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Reconstruction;

/// <summary>
/// `mindanim bench reconstruct-demo`: seconds per clip of each reconstruction stage with the shipped demo prior and
/// decoders of the demo config's sizes (untrained weights cost the same), at the demo's diffusion settings and batch size.
/// </summary>
public sealed class ReconstructionBenchmark : IBenchmark
{
    public string Name => "reconstruct-demo";

    public string Description => "reconstruction seconds per clip and per stage (decoders, CMG, DDIM inversion, guided sampling, VAE decode, writing) with the demo prior at the demo config";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var config = ConfigLoader.Load(null);
        var voxels = config.Preprocess.SelectVoxels;
        var clips = context.Quick ? 4 : config.Diffusion.BatchSize * 2;
        manual_seed(1);
        var decoders = DecoderSet.FromModels(
            new SemanticDecoder(SemanticDecoderOptions.FromSettings(config.Semantic, voxels)),
            new StructureDecoder(StructureDecoderOptions.FromSettings(config.Structure, voxels)),
            new MotionGenerator(MotionGeneratorOptions.FromSettings(config.Motion, voxels)));
        using var _ = decoders;
        foreach (var m in new TorchSharp.torch.nn.Module[] { decoders.Semantic, decoders.Structure, decoders.Motion })
        {
            m.eval();
        }
        using var pipeline = StableDiffusionFolder.Open(ModelFolders.StableDiffusion(config)).LoadInflatedPipeline(new InflationOptions { TemporalSeed = config.Seed });
        using var fmri = randn(clips, voxels);
        var output = Path.Combine(context.WorkDir, "reconstruct-demo");
        var d = config.Diffusion;
        var summary = VideoReconstructor.Run(decoders, pipeline, new ReconstructionRequest
        {
            ClipIds = Enumerable.Range(0, clips).Select(i => $"bench{i:D3}").ToList(),
            Fmri = fmri,
            OutputFolder = output,
            Force = true,
            BatchSize = d.BatchSize,
            Seed = config.Seed,
            Pipeline = ReconstructionJob.PipelineOptions(d),
        }, config.Data.FramesPerClip, null, Logger.None);
        var t = summary.Timings;
        var note = $"{clips} clips, batch {d.BatchSize}, {d.InversionSteps} inversion + {d.SamplingSteps} guided steps";
        return new[]
        {
            new Measurement("total_per_clip", summary.Seconds / clips, "s", note),
            new Measurement("decoders_per_clip", t.Decoders / clips, "s", "semantic + structure"),
            new Measurement("motion_per_clip", t.Motion / clips, "s", "CMG greedy decode of 8 latents"),
            new Measurement("inversion_per_clip", t.Inversion / clips, "s", "DDIM inversion + re-noise"),
            new Measurement("sampling_per_clip", t.Sampling / clips, "s", "guided DDIM (2 UNet passes per step)"),
            new Measurement("vae_decode_per_clip", t.VaeDecode / clips, "s", "8 frames"),
            new Measurement("writing_per_clip", t.Writing / clips, "s", "GIF, MP4, tensor file"),
            new Measurement("peak_rss", Measure.PeakRssMiB(), "MiB"),
        };
    }
}
