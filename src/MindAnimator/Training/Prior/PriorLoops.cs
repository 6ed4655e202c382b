using MindAnimator.Diffusion;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using Serilog;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Training.Prior;

/// <summary>Seeded optimisation settings of one training loop (Adam; batches drawn with replacement).</summary>
public sealed record PriorLoopOptions
{
    public int Steps { get; init; }

    public int BatchSize { get; init; } = 32;

    public double LearningRate { get; init; } = 5e-4;

    /// <summary>Seeds the loop's own generator (batches, posterior samples, noise, timesteps, caption dropout).</summary>
    public long Seed { get; init; }

    /// <summary>Log the mean loss of the last this many steps.</summary>
    public int LogEvery { get; init; } = 100;
}

/// <summary>
/// The training loops of the demo prior, each on single frames (never frame order): the VAE (reconstruction + KL), the
/// CLIP towers (symmetric contrastive loss over distinct captions) and the UNet (DDPM ε-prediction on scaled VAE
/// latents, conditioned on the text tower's last hidden state, with caption dropout for classifier-free guidance).
/// Only parameters with requires_grad are optimised. Each returns the loss of every step.
/// </summary>
// Mirrors diffusers examples/text_to_image/train_text_to_image.py (noise, timesteps, ε-MSE; the VAE and CLIP losses follow latent-diffusion and transformers clip_loss).
public static class PriorLoops
{
    /// <summary>Trains the VAE on RGB frames (N, H, W, 3) uint8: mean |x − decode(z)| + klWeight · KL per image, z ~ posterior.</summary>
    public static List<double> TrainVae(AutoencoderKl vae, Tensor rgb, double klWeight, PriorLoopOptions options, ILogger log)
    {
        vae.UseSlicing = false;
        vae.train();
        using var generator = new Generator((ulong)options.Seed);
        using var adam = optim.Adam(Trainable(vae), options.LearningRate);
        var losses = new List<double>(options.Steps);
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var x = ToImages(rgb.index_select(0, Draw(rgb.shape[0], options.BatchSize, generator)));
            adam.zero_grad();
            using var posterior = vae.Encode(x);
            var reconstruction = vae.Decode(posterior.Sample(generator));
            var l1 = (reconstruction - x).abs().mean();
            var kl = (posterior.Mean.square() + posterior.Var - 1 - posterior.LogVar).sum(new long[] { 1, 2, 3 }).mean().mul(0.5);
            var loss = l1 + (kl * klWeight);
            loss.backward();
            adam.step();
            Record(losses, loss, "VAE", step, options, log);
        }
        vae.eval();
        return losses;
    }

    /// <summary>
    /// Trains the CLIP towers: each batch takes distinct captions (frames of one clip share a caption, so they must not be
    /// each other's negatives) with one random frame of each; loss = symmetric InfoNCE of exp(logit_scale) · cosine.
    /// </summary>
    /// <param name="pixels">(N, 3, S, S) frames preprocessed for the vision tower.</param>
    /// <param name="captionIds">(K, L) token ids of the K distinct captions.</param>
    /// <param name="captionOfFrame">For each frame, its caption's row in <paramref name="captionIds"/>.</param>
    /// <param name="logitScale">The learnable temperature (log scale), trained with the towers.</param>
    public static List<double> TrainClip(ClipTextModelWithProjection text, ClipVisionModelWithProjection vision, Parameter logitScale,
        Tensor pixels, Tensor captionIds, IReadOnlyList<int> captionOfFrame, PriorLoopOptions options, ILogger log)
    {
        var framesOf = Enumerable.Range(0, (int)captionIds.shape[0]).Select(_ => new List<long>()).ToArray();
        for (var f = 0; f < captionOfFrame.Count; f++)
        {
            framesOf[captionOfFrame[f]].Add(f);
        }
        if (framesOf.Any(l => l.Count == 0))
        {
            throw new ArgumentException("every caption needs at least one frame.", nameof(captionOfFrame));
        }
        var batch = Math.Min(options.BatchSize, framesOf.Length);
        if (batch < 2)
        {
            throw new MindAnimatorException("contrastive training of the CLIP towers needs at least two distinct captions.");
        }
        text.train();
        vision.train();
        using var generator = new Generator((ulong)options.Seed);
        using var adam = optim.Adam(Trainable(text).Concat(Trainable(vision)).Append(logitScale).ToList(), options.LearningRate);
        var losses = new List<double>(options.Steps);
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var captions = randperm(framesOf.Length, generator: generator).narrow(0, 0, batch);
            var picks = rand(batch, generator: generator).data<float>().ToArray();
            var captionRows = captions.data<long>().ToArray();
            var frames = tensor(captionRows.Select((c, i) => framesOf[c][Math.Min((int)(picks[i] * framesOf[c].Count), framesOf[c].Count - 1)]).ToArray());
            adam.zero_grad();
            var image = nn.functional.normalize(vision.Forward(pixels.index_select(0, frames)).ImageEmbeds!, dim: -1);
            var words = nn.functional.normalize(text.Forward(captionIds.index_select(0, captions)).TextEmbeds!, dim: -1);
            // transformers clamps the learned temperature at 100 in training.
            var logits = image.matmul(words.t()) * logitScale.exp().clamp_max(100);
            var loss = Losses.SymmetricInfoNce(logits);
            loss.backward();
            adam.step();
            Record(losses, loss, "CLIP", step, options, log);
        }
        text.eval();
        vision.eval();
        return losses;
    }

    /// <summary>
    /// Trains the UNet to predict the noise DDPM adds to scaled latents z = (mean + std·ε)·scale at a uniform timestep,
    /// given the caption's text states; with probability <paramref name="captionDropout"/> the empty caption's instead.
    /// </summary>
    /// <param name="latentMean">(N, C, h, w) posterior means × scaling factor.</param>
    /// <param name="latentStd">(N, C, h, w) posterior standard deviations × scaling factor.</param>
    /// <param name="context">(K, L, D) text-encoder last hidden states of the K distinct captions.</param>
    /// <param name="captionOfFrame">For each frame, its row in <paramref name="context"/>.</param>
    /// <param name="emptyContext">(1, L, D) the empty caption's hidden states.</param>
    public static List<double> TrainUnet(Unet2DConditionModel unet, DdpmScheduler scheduler, Tensor latentMean, Tensor latentStd, Tensor context,
        IReadOnlyList<int> captionOfFrame, Tensor emptyContext, double captionDropout, PriorLoopOptions options, ILogger log)
    {
        unet.train();
        using var generator = new Generator((ulong)options.Seed);
        using var adam = optim.Adam(Trainable(unet), options.LearningRate);
        using var captionRows = tensor(captionOfFrame.Select(c => (long)c).ToArray());
        var losses = new List<double>(options.Steps);
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var rows = Draw(latentMean.shape[0], options.BatchSize, generator);
            var b = rows.shape[0];
            var mean = latentMean.index_select(0, rows);
            var z = mean + (latentStd.index_select(0, rows) * randn(mean.shape, generator: generator));
            var noise = randn(mean.shape, generator: generator);
            var timesteps = randint(0, scheduler.NumTrainTimesteps, new[] { b }, ScalarType.Int64, generator: generator);
            var drop = rand(new[] { b }, generator: generator).lt(captionDropout).view(b, 1, 1);
            var ctx = where(drop, emptyContext.expand(b, -1, -1), context.index_select(0, captionRows.index_select(0, rows)));
            var noisy = scheduler.AddNoise(z, noise, timesteps);
            adam.zero_grad();
            var loss = nn.functional.mse_loss(unet.forward(noisy, timesteps, ctx), noise);
            loss.backward();
            adam.step();
            Record(losses, loss, "UNet", step, options, log);
        }
        unet.eval();
        return losses;
    }

    /// <summary>uint8 (N, H, W, 3) → float (N, 3, H, W) in [−1, 1], the VAE's input range.</summary>
    public static Tensor ToImages(Tensor rgb) => rgb.permute(0, 3, 1, 2).to(ScalarType.Float32).div(127.5).sub(1);

    private static List<Parameter> Trainable(nn.Module module) => module.parameters().Where(p => p.requires_grad).ToList();

    private static Tensor Draw(long count, int batch, Generator generator) =>
        randint(0, count, new[] { (long)Math.Min(batch, count) }, ScalarType.Int64, generator: generator);

    private static void Record(List<double> losses, Tensor loss, string what, int step, PriorLoopOptions options, ILogger log)
    {
        var value = loss.item<float>();
        if (!float.IsFinite(value))
        {
            throw new MindAnimatorException($"{what} training diverged at step {step + 1} (loss {value}); lower its learning rate in the prior section of the config.");
        }
        losses.Add(value);
        if ((step + 1) % options.LogEvery == 0 || step + 1 == options.Steps)
        {
            var window = losses.Skip(Math.Max(0, losses.Count - options.LogEvery)).Average();
            log.Information("{What} step {Step}/{Steps}: loss {Loss:G4} (mean of the last {Window})", what, step + 1, options.Steps, window, Math.Min(options.LogEvery, losses.Count));
        }
    }
}
