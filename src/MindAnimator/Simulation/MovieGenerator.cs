namespace MindAnimator.Simulation;

/// <summary>The constant parameters of one scene of a procedural movie (ground truth, JSON-serialisable).</summary>
public sealed record SceneSpec
{
    /// <summary>Index into the shape vocabulary (the object category).</summary>
    public required int Category { get; init; }

    public required string Shape { get; init; }

    public required string Color { get; init; }

    /// <summary>small, medium or large.</summary>
    public required string Size { get; init; }

    /// <summary>Radius of the shape's bounding circle at scale 1, as a share of the frame width.</summary>
    public required double Radius { get; init; }

    /// <summary>solid, striped, dotted or checkered.</summary>
    public required string Texture { get; init; }

    /// <summary>Second colour of a striped/dotted/checkered object (white or black).</summary>
    public required string TextureColor { get; init; }

    /// <summary>plain, striped, gradient or checkered.</summary>
    public required string Background { get; init; }

    public required string BackgroundColor { get; init; }

    /// <summary>still, translate, rotate or scale.</summary>
    public required string Motion { get; init; }

    /// <summary>translate: one of the eight directions; rotate: clockwise/counterclockwise; scale: grow/shrink; still: none.</summary>
    public required string Direction { get; init; }

    /// <summary>Translation direction in degrees counter-clockwise from "right" (0 unless translating).</summary>
    public double DirectionDegrees { get; init; }

    /// <summary>slow, medium or fast; "none" when still.</summary>
    public required string Speed { get; init; }

    /// <summary>frame widths/s (translate), rad/s counter-clockwise (rotate), d ln(size)/dt (scale).</summary>
    public double SpeedValue { get; init; }
}

/// <summary>The state of the object in one frame: the scene plus where it is and how it moves (image coordinates, y down).</summary>
public readonly record struct FrameState(int SceneId, SceneSpec Scene, double X, double Y, double Angle, double Scale, double Vx, double Vy, double Omega, double ScaleRate)
{
    /// <summary>Current radius of the object's bounding circle, in frame widths.</summary>
    public double CurrentRadius => Scene.Radius * Scale;
}

/// <summary>A scene shown from <see cref="FirstFrame"/> of a clip on (the motion in effect during this clip).</summary>
public sealed record ScenePart(int SceneId, int FirstFrame, SceneSpec Scene);

/// <summary>Ground truth of one clip.</summary>
public sealed record ClipTruth
{
    public required string ClipId { get; init; }

    public required string Split { get; init; }

    public required string Segment { get; init; }

    public required int ClipIndex { get; init; }

    /// <summary>A new scene starts with this clip (else the previous clip's scene continues).</summary>
    public required bool SceneChangeAtStart { get; init; }

    /// <summary>Frame at which a second scene starts within the clip, if any.</summary>
    public int? ChangeFrame { get; init; }

    public required IReadOnlyList<ScenePart> Parts { get; init; }

    public required string Caption { get; init; }
}

/// <summary>A generated movie segment: per-clip ground truth and the state of every frame.</summary>
public sealed record SegmentMovie(string Split, int SegmentNumber, string Segment, IReadOnlyList<ClipTruth> Clips, FrameState[] Frames, int FramesPerClip);

/// <summary>
/// Generates continuous procedural movies: scenes persist across clips (motion continues smoothly) and change at
/// clip boundaries with a configured probability, sometimes within a clip.
/// </summary>
public static class MovieGenerator
{
    private const double MinCenter = 0.1;
    private const double MaxCenter = 0.9;
    private const double MinScale = 0.6;
    private const double MaxScale = 1.6;

    /// <summary>Clip id used everywhere: train-seg03-clip0042 (segments numbered from 1, clips from 0).</summary>
    public static string ClipId(string split, int segmentNumber, int clipIndex) => $"{SegmentName(split, segmentNumber)}-clip{clipIndex:D4}";

    public static string SegmentName(string split, int segmentNumber) => $"{split}-seg{segmentNumber:D2}";

    public static SegmentMovie Generate(int seed, string split, int segmentNumber, int clips, int framesPerClip, double frameRateHz,
        int categories, double sceneChangeProbability, double withinClipChangeProbability)
    {
        var splitCode = split == Data.Splits.Test ? 2 : 1;
        var rng = SimRandom.For(seed, SimRandom.Stream.Scenes, splitCode, segmentNumber);
        var captionRng = SimRandom.For(seed, SimRandom.Stream.Captions, splitCode, segmentNumber);
        var dt = 1.0 / frameRateHz;
        var frames = new FrameState[clips * framesPerClip];
        var truths = new ClipTruth[clips];
        var sceneCounter = 0;
        State? state = null;
        for (var k = 0; k < clips; k++)
        {
            var newAtStart = state is null || rng.Chance(sceneChangeProbability);
            if (newAtStart)
            {
                state = NewScene(ref rng, categories, ++sceneCounter);
            }
            var s = state!;
            FitMotion(s, framesPerClip, dt);
            var parts = new List<ScenePart> { new(s.SceneId, 0, s.Spec) };
            int? changeFrame = framesPerClip >= 4 && rng.Chance(withinClipChangeProbability) ? 2 + rng.NextInt(framesPerClip - 3) : null;
            for (var f = 0; f < framesPerClip; f++)
            {
                if (f == changeFrame)
                {
                    s = NewScene(ref rng, categories, ++sceneCounter);
                    FitMotion(s, framesPerClip - f, dt);
                    parts.Add(new ScenePart(s.SceneId, f, s.Spec));
                }
                frames[(k * framesPerClip) + f] = s.Snapshot();
                s.Advance(dt);
            }
            state = s;
            truths[k] = new ClipTruth
            {
                ClipId = ClipId(split, segmentNumber, k),
                Split = split,
                Segment = SegmentName(split, segmentNumber),
                ClipIndex = k,
                SceneChangeAtStart = newAtStart,
                ChangeFrame = changeFrame,
                Parts = parts,
                Caption = CaptionWriter.Caption(parts, ref captionRng),
            };
        }
        return new SegmentMovie(split, segmentNumber, SegmentName(split, segmentNumber), truths, frames, framesPerClip);
    }

    private static State NewScene(ref SimRandom rng, int categories, int sceneId)
    {
        var category = rng.NextInt(categories);
        var color = rng.Pick(SceneVocabulary.ObjectColors);
        var size = rng.Pick(SceneVocabulary.Sizes);
        var texture = rng.Chance(0.4) ? "solid" : SceneVocabulary.Textures[1 + rng.NextInt(3)];
        var background = rng.Chance(0.4) ? "plain" : SceneVocabulary.Backgrounds[1 + rng.NextInt(3)];
        var bg = rng.Pick(SceneVocabulary.BackgroundColors);
        for (var tries = 0; tries < 20 && (bg.Name == color.Name || Math.Abs(bg.Luminance - color.Luminance) < 0.15); tries++)
        {
            bg = rng.Pick(SceneVocabulary.BackgroundColors);
        }
        var motionDraw = rng.NextDouble();
        var motion = motionDraw < 0.2 ? "still" : motionDraw < 0.6 ? "translate" : motionDraw < 0.8 ? "rotate" : "scale";
        string direction = "none", speedName = "none";
        double degrees = 0, speed = 0;
        switch (motion)
        {
            case "translate":
                var d = rng.NextInt(8);
                direction = SceneVocabulary.Directions[d];
                degrees = SceneVocabulary.DirectionDegrees(d);
                (speedName, speed) = rng.Pick(SceneVocabulary.TranslationSpeeds);
                break;
            case "rotate":
                (speedName, speed) = rng.Pick(SceneVocabulary.RotationSpeeds);
                direction = rng.Chance(0.5) ? "counterclockwise" : "clockwise";
                speed = direction == "clockwise" ? -speed : speed;
                break;
            case "scale":
                (speedName, speed) = rng.Pick(SceneVocabulary.ScaleSpeeds);
                direction = rng.Chance(0.5) ? "grow" : "shrink";
                speed = direction == "shrink" ? -speed : speed;
                break;
        }
        var spec = new SceneSpec
        {
            Category = category,
            Shape = SceneVocabulary.Shapes[category],
            Color = color.Name,
            Size = size.Name,
            Radius = size.Value,
            Texture = texture,
            TextureColor = color.Luminance < 0.6 ? "white" : "black",
            Background = background,
            BackgroundColor = bg.Name,
            Motion = motion,
            Direction = direction,
            DirectionDegrees = degrees,
            Speed = speedName,
            SpeedValue = speed,
        };
        return new State
        {
            SceneId = sceneId,
            Spec = spec,
            X = rng.Uniform(0.25, 0.75),
            Y = rng.Uniform(0.25, 0.75),
            Angle = rng.Uniform(-0.25, 0.25),
            Scale = 1,
        };
    }

    // Keeps the object in view for the next `frames` frames by mirroring its motion at a clip boundary (or at a
    // new scene's start), so motion never changes inside a clip's scene.
    private static void FitMotion(State s, int frames, double dt)
    {
        var horizon = (frames + 1) * dt;
        var spec = s.Spec;
        if (spec.Motion == "translate")
        {
            var d = SceneVocabulary.DirectionIndex(spec.Direction);
            var (vx, vy) = s.Velocity();
            var x = s.X + (vx * horizon);
            var y = s.Y + (vy * horizon);
            if (x < MinCenter || x > MaxCenter)
            {
                d = (12 - d) % 8; // mirror left/right: θ → 180° − θ
            }
            if (y < MinCenter || y > MaxCenter)
            {
                d = (8 - d) % 8; // mirror up/down: θ → −θ
            }
            if (SceneVocabulary.Directions[d] != spec.Direction)
            {
                s.Spec = spec with { Direction = SceneVocabulary.Directions[d], DirectionDegrees = SceneVocabulary.DirectionDegrees(d) };
            }
        }
        else if (spec.Motion == "scale")
        {
            var next = s.Scale * Math.Exp(spec.SpeedValue * horizon);
            if (next < MinScale || next > MaxScale)
            {
                s.Spec = spec with { SpeedValue = -spec.SpeedValue, Direction = spec.SpeedValue > 0 ? "shrink" : "grow" };
            }
        }
    }

    private sealed class State
    {
        public int SceneId { get; init; }

        public required SceneSpec Spec { get; set; }

        public double X { get; set; }

        public double Y { get; set; }

        public double Angle { get; set; }

        public double Scale { get; set; }

        public (double Vx, double Vy) Velocity()
        {
            if (Spec.Motion != "translate")
            {
                return (0, 0);
            }
            var (sin, cos) = Math.SinCos(Spec.DirectionDegrees * Math.PI / 180);
            return (Spec.SpeedValue * cos, -Spec.SpeedValue * sin); // image y points down
        }

        public FrameState Snapshot()
        {
            var (vx, vy) = Velocity();
            return new FrameState(SceneId, Spec, X, Y, Angle, Scale, vx, vy,
                Spec.Motion == "rotate" ? Spec.SpeedValue : 0, Spec.Motion == "scale" ? Spec.SpeedValue : 0);
        }

        public void Advance(double dt)
        {
            var (vx, vy) = Velocity();
            X += vx * dt;
            Y += vy * dt;
            if (Spec.Motion == "rotate")
            {
                Angle += Spec.SpeedValue * dt;
            }
            else if (Spec.Motion == "scale")
            {
                Scale *= Math.Exp(Spec.SpeedValue * dt);
            }
        }
    }
}
