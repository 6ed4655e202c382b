namespace MindAnimator.Benchmarks;

/// <summary>Every benchmark `mindanim bench` can run: each public IBenchmark of this library, by name.</summary>
public static class BenchmarkRegistry
{
    public static IReadOnlyList<IBenchmark> All { get; } = typeof(IBenchmark).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true } && typeof(IBenchmark).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
        // The decoder benchmark is parameterised by decoder kind, so reflection cannot create it.
        .Concat(new[] { "semantic", "structure", "motion" }.Select(kind => (IBenchmark)new Training.DecoderEpochBenchmark(kind)))
        .OrderBy(b => b.Name, StringComparer.Ordinal)
        .ToList();

    public static IBenchmark Find(string name) =>
        All.FirstOrDefault(b => b.Name == name)
        ?? throw new MindAnimatorException($"unknown benchmark '{name}'; available: {string.Join(", ", All.Select(b => b.Name))}.");
}
