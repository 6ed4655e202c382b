using MindAnimator.Data;
using MindAnimator.Simulation;

namespace MindAnimator.Evaluation;

/// <summary>
/// How often the classifiers name the simulator's true category of ground-truth clips: frames by colour × shape,
/// single-scene clips by colour × shape × motion; with the chance levels 1/classes.
/// </summary>
public sealed record ZeroShotAccuracy(int Frames, double FrameTop1, double FrameChance, int Clips, double ClipTop1, double ClipChance);

/// <summary>
/// Checks that zero-shot classifiers know the simulated categories before their N-way numbers are read: N-way
/// accuracy compares reconstruction and ground truth in the classifier's classes, which only means "same category"
/// when the classifier gets the ground truth's category right well above chance.
/// </summary>
public static class ZeroShotCheck
{
    public static ZeroShotAccuracy OnSimulatedClips(ClipZeroShotClassifier image, ClipZeroShotClassifier video, IClipSource clips, IEnumerable<ClipTruth> truths) =>
        OnSimulatedClips(image, image.Spec.Classes, video, video.Spec.Classes, clips, truths);

    /// <param name="imageClasses">The image classifier's class names, in its order (<see cref="SimulationClasses.ImageClasses"/>).</param>
    /// <param name="videoClasses">The video classifier's class names, in its order (<see cref="SimulationClasses.VideoClasses"/>).</param>
    public static ZeroShotAccuracy OnSimulatedClips(IFrameClassifier image, IReadOnlyList<string> imageClasses, IClipClassifier video, IReadOnlyList<string> videoClasses,
        IClipSource clips, IEnumerable<ClipTruth> truths)
    {
        var imageIndex = Index(imageClasses, image.Classes, image.Name);
        var videoIndex = Index(videoClasses, video.Classes, video.Name);
        int frames = 0, frameHits = 0, singleScene = 0, clipHits = 0;
        foreach (var truth in truths)
        {
            var clip = clips.Read(truth.ClipId);
            var probabilities = image.Probabilities(Enumerable.Range(0, clip.Frames).Select(f => RgbImage.FromClip(clip, f)).ToList());
            for (var f = 0; f < clip.Frames; f++)
            {
                var scene = truth.Parts.Last(p => p.FirstFrame <= f).Scene;
                frames++;
                frameHits += NWayClassification.TopClasses(probabilities[f], 1)[0] == ClassOf(imageIndex, SimulationClasses.ImageClass(scene.Color, scene.Shape), image.Name) ? 1 : 0;
            }
            if (truth.Parts.Count == 1)
            {
                singleScene++;
                clipHits += NWayClassification.TopClasses(video.Probabilities(clip), 1)[0] == ClassOf(videoIndex, SimulationClasses.VideoClass(truth.Parts[0].Scene), video.Name) ? 1 : 0;
            }
        }
        if (frames == 0)
        {
            throw new MindAnimatorException("no ground-truth clips to check the zero-shot classifiers on");
        }
        return new ZeroShotAccuracy(frames, (double)frameHits / frames, 1.0 / image.Classes,
            singleScene, singleScene == 0 ? double.NaN : (double)clipHits / singleScene, 1.0 / video.Classes);
    }

    private static Dictionary<string, int> Index(IReadOnlyList<string> classes, int count, string name)
    {
        if (classes.Count != count)
        {
            throw new ArgumentException($"{name} has {count} classes, but {classes.Count} class names were given");
        }
        return classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
    }

    private static int ClassOf(Dictionary<string, int> index, string name, string classifier) =>
        index.TryGetValue(name, out var i) ? i
            : throw new MindAnimatorException($"{classifier} has no class '{name}': its folder was written for other simulation.categories than the clips'");
}
