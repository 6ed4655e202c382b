using MindAnimator.Benchmarks;
using MindAnimator.Config;
using MindAnimator.Diffusion;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using MindAnimator.Simulation;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Training.Prior;

/// <summary>
/// `mindanim bench prior-steps`: seconds per training step of each stage of the demo prior at the default sizes
/// (64×64 frames, the prior section's defaults), on random frames and simulator captions, timed over a few steps after
/// one warm-up step; the whole default run is extrapolated from them.
/// </summary>
public sealed class PriorBenchmark : IBenchmark
{
    private const int FrameSize = 64;

    public string Name => "prior-steps";

    public string Description => "seconds per training step of the demo prior's VAE, CLIP and UNet at the default sizes (64×64), and the default run extrapolated";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var s = new PriorSettings();
        var steps = context.Quick ? 1 : 5;
        var captions = MovieGenerator.Generate(1, "train", 1, 200, 8, 4, 8, 0.9, 0.05).Clips.Select(c => c.Caption).Distinct().Take(64).ToList();
        var tables = CaptionTokenizerBuilder.ForSimulatedCaptions(captions);
        var tokenizer = tables.ToTokenizer();
        var arch = PriorArchitecture.From(s, FrameSize, tokenizer.VocabSize);
        manual_seed(1);
        using var rgb = randint(0, 256, new long[] { captions.Count, FrameSize, FrameSize, 3 }, ScalarType.Byte);
        var ofFrame = Enumerable.Range(0, captions.Count).ToArray();
        using var vae = new AutoencoderKl(arch.Vae);
        using var text = new ClipTextModelWithProjection(arch.Text);
        using var vision = new ClipVisionModelWithProjection(arch.Vision);
        using var logitScale = new TorchSharp.Modules.Parameter(tensor((float)Math.Log(1 / 0.07)));
        using var unet = new Unet2DConditionModel(arch.Unet);
        foreach (var model in new TorchSharp.torch.nn.Module[] { vae, text, vision, unet })
        {
            FreshWeights.ResetNorms(model);
        }
        PriorLoopOptions Options(int n) => new() { Steps = n, BatchSize = s.BatchSize, LearningRate = 1e-4, Seed = 1, LogEvery = 1000 };
        double PerStep(Action<int> stage)
        {
            stage(1);
            return Measure.Seconds(() => stage(steps)) / steps;
        }

        var vaeStep = PerStep(n => PriorLoops.TrainVae(vae, rgb, s.KlWeight, Options(n), Logger.None));
        var processor = ClipImageProcessor.OpenAiClipAt(FrameSize);
        using var pixels = processor.Preprocess(rgb);
        var (ids, _) = tokenizer.EncodeBatch(captions, 24);
        var clipStep = PerStep(n => PriorLoops.TrainClip(text, vision, logitScale, pixels, ids, ofFrame, Options(n), Logger.None));
        using var scheduler = new DdpmScheduler(DiffusersConfig.Parse(PriorArchitecture.SchedulerConfig.ToJsonString(), "scheduler_config.json"));
        var (mean, std) = PriorTraining.EncodeLatents(vae, rgb, s.BatchSize);
        using var _ = mean;
        using var __ = std;
        using var context20 = PriorTraining.TextStates(text, tokenizer, captions, 20);
        using var empty = PriorTraining.TextStates(text, tokenizer, new[] { string.Empty }, 20);
        var unetStep = PerStep(n => PriorLoops.TrainUnet(unet, scheduler, mean, std, context20, ofFrame, empty, s.CaptionDropout, Options(n), Logger.None));
        var total = (vaeStep * s.VaeSteps) + (clipStep * s.ClipSteps) + (unetStep * s.UnetSteps);
        var note = $"batch {s.BatchSize}, mean of {steps} steps after a warm-up step";
        return new[]
        {
            new Measurement("vae_step", vaeStep, "s", note),
            new Measurement("clip_step", clipStep, "s", note),
            new Measurement("unet_step", unetStep, "s", note),
            new Measurement("default_run", total / 60, "min", $"extrapolated: {s.VaeSteps} VAE + {s.ClipSteps} CLIP + {s.UnetSteps} UNet steps"),
            new Measurement("unet_parameters", unet.parameters().Sum(p => p.numel()), "count"),
            new Measurement("vae_parameters", vae.parameters().Sum(p => p.numel()), "count"),
        };
    }
}
