using MindAnimator.Data.Formats;

namespace MindAnimator.Data.Import;

/// <summary>The file names of a dataset folder (the layout `data simulate` writes), shared by the importers.</summary>
public static class DatasetFolder
{
    public const string FmriFile = "fmri.parquet";
    public const string ClipsFolder = "clips";

    /// <summary>Fails when one of the outputs already exists and may not be replaced.</summary>
    public static void EnsureWritable(string folder, bool overwrite, params string[] entries)
    {
        foreach (var name in entries.Append(DatasetManifest.FileName))
        {
            var path = Path.Combine(folder, name);
            if (!overwrite && (File.Exists(path) || Directory.Exists(path)))
            {
                throw new OutputExistsException(path);
            }
        }
    }

    /// <summary>Samples per split of a table, for the manifest.</summary>
    public static Dictionary<string, int> SampleCounts(FmriTable table) =>
        Splits.All.ToDictionary(s => s, s => table.Samples.Count(x => x.Split == s));
}
