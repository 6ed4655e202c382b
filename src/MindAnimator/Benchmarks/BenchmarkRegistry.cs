namespace MindAnimator.Benchmarks;

/// <summary>Every benchmark `mindanim bench` can run.</summary>
public static class BenchmarkRegistry
{
    public static IReadOnlyList<IBenchmark> All { get; } = new List<IBenchmark>
    {
        new Models.Clip.ClipTokenizerBenchmark(),
        new Models.Clip.ClipTextEncoderBenchmark(),
        new Diffusion.Pipelines.TinyPipelineBenchmark(),
        new TinyUnetBenchmark(),
        new Sd15UnetCpuBenchmark(),
    };

    public static IBenchmark Find(string name) =>
        All.FirstOrDefault(b => b.Name == name)
        ?? throw new MindAnimatorException($"unknown benchmark '{name}'; available: {string.Join(", ", All.Select(b => b.Name))}.");
}
