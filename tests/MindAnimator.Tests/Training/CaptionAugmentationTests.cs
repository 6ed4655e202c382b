using MindAnimator.Tests.Infrastructure;
using MindAnimator.Training;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training;

public class CaptionAugmentationTests
{
    [Fact]
    public void CaptionAugmentation_DrawsFromTheGivenGenerator_SoItsStateFixesTheCaptions()
    {
        var captions = TinyDecoders.Captions();
        var rows = Enumerable.Range(0, 18).Select(i => (long)i).ToArray();
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        var first = captions.Augment(rows, g1);
        Assert.Equal(first, captions.Augment(rows, g2));
        // The generator moved on: the next batch is augmented differently.
        Assert.NotEqual(first, captions.Augment(rows, g1));
        // Each caption comes from its own row (deletion may drop the row number, never put another there), and EDA changed most of them.
        Assert.All(first.Select((c, i) => (c, i)), p => Assert.All(p.c.Split(' ').Where(w => int.TryParse(w, out _)), w => Assert.Equal(p.i.ToString(), w)));
        Assert.InRange(first.Count(c => c.StartsWith("a red car number ") && c.EndsWith(" drives on the road")), 0, 6);
    }

    [Fact]
    public void SemanticTraining_WithCaptionAugmentation_TrainsTowardsReencodedCaptions_AndRecordsIt()
    {
        using var data = TinyDecoders.Data();
        using var runA = TestEnvironment.NewTempDir();
        using var runB = TestEnvironment.NewTempDir();
        var plain = TinyDecoders.Task("semantic", 2, 3);
        var augmented = (SemanticTask)TinyDecoders.Task("semantic-eda", 2, 3);
        TinyDecoders.CopyWeights(plain.Model, augmented.Model);
        var p = DecoderTrainer.Train(plain, data, new TrainerOptions { RunDirectory = runA.Path, Seed = 3, ValidationFraction = 0.25, Plot = false });
        var a = DecoderTrainer.Train(augmented, data, new TrainerOptions { RunDirectory = runB.Path, Seed = 3, ValidationFraction = 0.25, Plot = false });
        // Other text targets, so other losses from the first batch on.
        Assert.NotEqual(p.History[0].TrainLoss, a.History[0].TrainLoss);
        Assert.Equal(2 * 18, augmented.Captions!.Augmented);

        var off = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(runA.Path, "metrics.json"))).RootElement.GetProperty("settings");
        Assert.False(off.GetProperty("caption_augmentation").GetProperty("enabled").GetBoolean());
        var on = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(runB.Path, "metrics.json"))).RootElement.GetProperty("settings").GetProperty("caption_augmentation");
        Assert.True(on.GetProperty("enabled").GetBoolean());
        Assert.Equal("eda", on.GetProperty("method").GetString());
        Assert.Equal(36, on.GetProperty("captions_augmented").GetInt64());
    }

    [Fact]
    public void CaptionAugmentation_RefusesEncodersThatDoNotReproduceTheStoredTargets()
    {
        using var data = TinyDecoders.Data();
        // The tiny data's stored targets are projections of the fMRI, not encodings of these captions.
        var e = Assert.Throws<MindAnimatorException>(() => TinyDecoders.Captions().CheckAgainstStored(data, "/features"));
        Assert.Contains("/features", e.Message);
        Assert.Contains("clip_text", e.Message);
        var count = Assert.Throws<MindAnimatorException>(() => TinyDecoders.Captions(clips: 5).CheckAgainstStored(data, "/features"));
        Assert.Contains("5 captions for 24", count.Message);
    }
}
